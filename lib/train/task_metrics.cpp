#include "train/task_metrics.hpp"

#include <algorithm>
#include <map>

#include <cctype>

#include <utf8proc.h>  // UTF8PROC_CATEGORY_*

#include "core/error.hpp"     // BERT_CHECK
#include "text/unicode.hpp"   // category, to_lower, is_whitespace
#include "text/utf8.hpp"      // utf8_next, utf8_append

namespace bert::train {

namespace {

double f1_of(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const text::Utf8Char c = text::utf8_next(p, end);
    out.push_back(c.cp);
    p += c.size;
  }
  return out;
}

// Python's \w: letters, numbers and the underscore.
bool is_word_char(char32_t c) {
  if (c == U'_') return true;
  const int cat = text::unicode::category(c);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

// Python's str.split() separators.
bool is_space(char32_t c) {
  return text::unicode::is_whitespace(c) || text::unicode::is_line_separator(c) || (c >= 0x1c && c <= 0x1f) ||
         c == 0x0b || c == 0x0c || c == 0x85;
}

std::vector<std::string> normalized_tokens(std::string_view answer) {
  // lower(), then remove ASCII punctuation (string.punctuation), then articles between word
  // boundaries, then split on whitespace.
  std::vector<char32_t> s;
  for (char32_t c : code_points(answer)) {
    char32_t low[2];
    const size_t n = text::unicode::to_lower(c, low);
    for (size_t i = 0; i < n; ++i)
      if (!(low[i] < 128 && std::ispunct(int(low[i])))) s.push_back(low[i]);
  }
  for (size_t i = 0; i < s.size();) {
    if (!is_word_char(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && is_word_char(s[j])) ++j;
    const std::u32string word(s.begin() + long(i), s.begin() + long(j));
    if (word == U"a" || word == U"an" || word == U"the")
      for (size_t k = i; k < j; ++k) s[k] = U' ';
    i = j;
  }
  std::vector<std::string> tokens;
  std::string current;
  for (char32_t c : s) {
    if (is_space(c)) {
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
    } else {
      text::utf8_append(current, c);
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

}  // namespace

std::pair<char, std::string_view> split_bio(std::string_view tag) {
  if (tag.size() > 2 && (tag[0] == 'B' || tag[0] == 'I') && tag[1] == '-') return {tag[0], tag.substr(2)};
  return {0, {}};
}

std::vector<Entity> strict_entities(const std::vector<std::string>& tags) {
  std::vector<Entity> out;
  for (size_t i = 0; i < tags.size();) {
    const auto [kind, type] = split_bio(tags[i]);
    if (kind != 'B') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < tags.size() && split_bio(tags[j]) == std::pair<char, std::string_view>{'I', type}) ++j;
    out.push_back({std::string(type), i, j});
    i = j;
  }
  return out;
}

EntityScores entity_scores(const std::vector<std::vector<std::string>>& gold,
                           const std::vector<std::vector<std::string>>& predicted) {
  BERT_CHECK(gold.size() == predicted.size());
  std::map<std::string, EntityScores::Type> by_type;
  for (size_t s = 0; s < gold.size(); ++s) {
    BERT_CHECK(gold[s].size() == predicted[s].size());
    const std::vector<Entity> g = strict_entities(gold[s]), p = strict_entities(predicted[s]);
    for (const Entity& e : g) by_type[e.type].support++;
    for (const Entity& e : p) {
      by_type[e.type].predicted++;
      if (std::find(g.begin(), g.end(), e) != g.end()) by_type[e.type].correct++;
    }
  }
  EntityScores out;
  for (auto& [name, t] : by_type) {
    t.name = name;
    t.precision = t.predicted ? double(t.correct) / double(t.predicted) : 0;
    t.recall = t.support ? double(t.correct) / double(t.support) : 0;
    t.f1 = f1_of(t.precision, t.recall);
    out.support += t.support;
    out.predicted += t.predicted;
    out.correct += t.correct;
    out.types.push_back(t);
  }
  out.precision = out.predicted ? double(out.correct) / double(out.predicted) : 0;
  out.recall = out.support ? double(out.correct) / double(out.support) : 0;
  out.f1 = f1_of(out.precision, out.recall);
  return out;
}

std::string squad_normalize(std::string_view answer) {
  std::string out;
  for (const std::string& t : normalized_tokens(answer)) out += (out.empty() ? "" : " ") + t;
  return out;
}

double squad_exact_match(std::string_view prediction, std::string_view gold) {
  return squad_normalize(prediction) == squad_normalize(gold) ? 1.0 : 0.0;
}

double squad_f1(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> p = normalized_tokens(prediction), g = normalized_tokens(gold);
  std::map<std::string, long> count;
  for (const std::string& t : g) ++count[t];
  long same = 0;
  for (const std::string& t : p)
    if (count[t]-- > 0) ++same;
  if (same == 0) return 0.0;
  const double precision = double(same) / double(p.size()), recall = double(same) / double(g.size());
  return 2 * precision * recall / (precision + recall);
}

SquadScores squad_scores(const std::vector<std::string>& predictions,
                         const std::vector<std::vector<std::string>>& gold_answers) {
  BERT_CHECK(predictions.size() == gold_answers.size());
  SquadScores s;
  for (size_t i = 0; i < predictions.size(); ++i) {
    double em = 0, f1 = 0;
    if (gold_answers[i].empty()) {
      em = f1 = predictions[i].empty() ? 1.0 : 0.0;
    } else {
      for (const std::string& g : gold_answers[i]) {
        em = std::max(em, squad_exact_match(predictions[i], g));
        f1 = std::max(f1, squad_f1(predictions[i], g));
      }
    }
    s.exact_match += em;
    s.f1 += f1;
  }
  s.questions = predictions.size();
  if (s.questions) {
    s.exact_match *= 100.0 / double(s.questions);
    s.f1 *= 100.0 / double(s.questions);
  }
  return s;
}

}  // namespace bert::train
