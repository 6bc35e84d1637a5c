#include "train/task_datasets.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.hpp"  // fail_input
#include "core/file.hpp"   // read_file
#include "core/json.hpp"   // parse_json
#include "text/utf8.hpp"   // utf8_find_invalid, utf8_char_starts
#include "train/task_metrics.hpp"  // split_bio

namespace bert::train {

ConllData read_conll(const std::string& path, const std::vector<std::string>& labels) {
  const std::string data = read_file(path);
  if (size_t bad = text::utf8_find_invalid(data); bad != std::string::npos)
    fail_input("{}: invalid UTF-8 at byte {}", path, bad);
  ConllData out;
  TaggedSentence current;
  uint64_t line_number = 0;
  std::string previous = "O";
  auto finish = [&] {
    if (!current.words.empty()) out.sentences.push_back(std::move(current));
    current = TaggedSentence();
    previous = "O";
  };
  size_t at = 0;
  while (at <= data.size()) {
    size_t end = data.find('\n', at);
    if (end == std::string::npos) end = data.size();
    std::string_view line(data.data() + at, end - at);
    ++line_number;
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      finish();
      if (end == data.size()) break;
      continue;
    }
    if (line.starts_with("-DOCSTART-")) continue;
    const size_t tab = line.rfind('\t');
    if (tab == std::string_view::npos)
      fail_input("{}:{}: expected token<TAB>tag, found no tab", path, line_number);
    const std::string word(line.substr(0, tab)), tag(line.substr(tab + 1));
    if (word.empty() || tag.empty()) fail_input("{}:{}: empty {}", path, line_number, word.empty() ? "token" : "tag");
    if (!labels.empty() && std::find(labels.begin(), labels.end(), tag) == labels.end())
      fail_input("{}:{}: tag '{}' is not one of the labels ({} of them)", path, line_number, tag, labels.size());
    if (auto [kind, type] = split_bio(tag); kind == 'I') {
      const auto [pk, ptype] = split_bio(previous);
      if (pk == 0 || ptype != type) {
        if (out.broken_bio++ == 0) out.first_broken_bio = fmt::format("{}:{}: {} after {}", path, line_number, tag, previous);
      }
    }
    if (current.words.empty()) current.line = line_number;
    current.words.push_back(word);
    current.tags.push_back(tag);
    previous = tag;
    if (end == data.size()) {
      finish();
      break;
    }
  }
  finish();
  if (out.sentences.empty()) fail_input("{}: no sentences (token<TAB>tag lines)", path);
  return out;
}

std::vector<std::string> conll_labels(const std::vector<TaggedSentence>& sentences) {
  std::vector<std::string> tags;
  for (const auto& s : sentences) tags.insert(tags.end(), s.tags.begin(), s.tags.end());
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  // O first; then by type, B- before I-; other tags by name.
  auto key = [](const std::string& t) {
    const auto [kind, type] = split_bio(t);
    return std::tuple(t != "O", kind ? std::string(type) : t, kind == 'I');
  };
  std::sort(tags.begin(), tags.end(), [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  return tags;
}

std::vector<SquadQuestion> read_squad(const std::string& path) {
  const nlohmann::json j = parse_json(read_file(path), path);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
    fail_input("{}: not SQuAD JSON (expected an object with a \"data\" list)", path);
  std::vector<SquadQuestion> out;
  auto text_of = [&](const nlohmann::json& o, const char* key, const std::string& where) {
    if (!o.is_object() || !o.contains(key) || !o[key].is_string())
      fail_input("{}: {}: \"{}\" is missing or not a string", path, where, key);
    return o[key].get<std::string>();
  };
  for (size_t a = 0; a < j["data"].size(); ++a) {
    const nlohmann::json& article = j["data"][a];
    if (!article.is_object() || !article.contains("paragraphs") || !article["paragraphs"].is_array())
      fail_input("{}: data[{}] has no \"paragraphs\" list", path, a);
    for (size_t p = 0; p < article["paragraphs"].size(); ++p) {
      const nlohmann::json& para = article["paragraphs"][p];
      const std::string where = fmt::format("data[{}].paragraphs[{}]", a, p);
      const std::string context = text_of(para, "context", where);
      if (text::utf8_find_invalid(context) != std::string::npos) fail_input("{}: {}: invalid UTF-8", path, where);
      if (!para.contains("qas") || !para["qas"].is_array()) fail_input("{}: {}: no \"qas\" list", path, where);
      const std::vector<uint32_t> chars = text::utf8_char_starts(context);
      for (const nlohmann::json& qa : para["qas"]) {
        SquadQuestion q;
        q.id = qa.is_object() && qa.contains("id") && qa["id"].is_string() ? qa["id"].get<std::string>()
                                                                          : fmt::format("{}.qas[{}]", where, out.size());
        q.question = text_of(qa, "question", "question " + q.id);
        q.context = context;
        if (q.question.find_first_not_of(" \t\r\n") == std::string::npos)
          fail_input("{}: question {}: the question is empty", path, q.id);
        if (context.find_first_not_of(" \t\r\n") == std::string::npos)
          fail_input("{}: question {}: the context is empty", path, q.id);
        if (!qa.contains("answers") || !qa["answers"].is_array())
          fail_input("{}: question {}: no \"answers\" list", path, q.id);
        for (const nlohmann::json& ans : qa["answers"]) {
          SquadAnswer an;
          an.text = text_of(ans, "text", "question " + q.id);
          if (!ans.contains("answer_start") || !ans["answer_start"].is_number_integer() || ans["answer_start"] < 0)
            fail_input("{}: question {}: answer_start is missing or not a character offset", path, q.id);
          const uint64_t start = ans["answer_start"].get<uint64_t>();
          const uint64_t n = text::utf8_count(an.text);
          if (start + n >= chars.size() ||
              context.compare(chars[start], chars[start + n] - chars[start], an.text) != 0)
            fail_input("{}: question {}: the answer \"{}\" is not at answer_start {} of the context", path, q.id,
                       an.text.size() > 40 ? an.text.substr(0, 37) + "..." : an.text, start);
          an.start = uint32_t(start);
          q.answers.push_back(std::move(an));
        }
        out.push_back(std::move(q));
      }
    }
  }
  if (out.empty()) fail_input("{}: no questions", path);
  return out;
}

}  // namespace bert::train
