// Tokenizer::from_path: Hugging Face tokenizer files.
//   vocab.txt + tokenizer_config.json + special_tokens_map.json (+ added_tokens.json): the slow
//     BertTokenizer's files, as save_pretrained writes them;
//   tokenizer.json: the Rust tokenizers' file; only a WordPiece model with BertNormalizer and
//     BertPreTokenizer is accepted, since that is what we reproduce.
#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>  // json

#include "core/error.hpp"  // fail_model, fail_io
#include "core/file.hpp"   // read_file, file_exists
#include "core/json.hpp"   // try_parse_json (bounded nesting)
#include "text/tokenizer.hpp"
#include "text/unicode.hpp"  // to_lower
#include "text/utf8.hpp"     // utf8_next

namespace bert::text {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json read_json_file(const std::string& path) {
  json j;
  if (std::string err = try_parse_json(read_file(path), j); !err.empty()) fail_model("{}: invalid JSON: {}", path, err);
  return j;
}

// A token in HF config files: "[CLS]", or an AddedToken object {"content": "[CLS]", ...}.
std::optional<std::string> token_text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("content") && j["content"].is_string()) return j["content"].get<std::string>();
  return std::nullopt;
}

bool get_bool(const json& j, const char* key, const std::string& path, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) fail_model("{}: \"{}\" must be true or false", path, key);
  return j[key].get<bool>();
}

// Added tokens with the ids their file gives them (tokenizer.json added_tokens, added_tokens.json,
// tokenizer_config.json added_tokens_decoder).
using AddedIds = std::map<int64_t, std::string>;

// The special-token names and added tokens of tokenizer_config.json or special_tokens_map.json.
void read_special_tokens(const json& j, TokenizerConfig& c) {
  auto set = [&](const char* key, std::string& field) {
    if (j.contains(key))
      if (auto t = token_text(j[key])) field = *t;
  };
  set("unk_token", c.unk_token);
  set("cls_token", c.cls_token);
  set("sep_token", c.sep_token);
  set("pad_token", c.pad_token);
  set("mask_token", c.mask_token);
  if (j.contains("additional_special_tokens") && j["additional_special_tokens"].is_array())
    for (const json& t : j["additional_special_tokens"])
      if (auto s = token_text(t)) c.extra_special_tokens.push_back(*s);
}

void read_tokenizer_config(const std::string& path, TokenizerConfig& c, AddedIds& added) {
  json j = read_json_file(path);
  if (!j.is_object()) fail_model("{}: expected a JSON object", path);
  c.lowercase = get_bool(j, "do_lower_case", path, c.lowercase);
  if (j.contains("strip_accents") && !j["strip_accents"].is_null())
    c.strip_accents = get_bool(j, "strip_accents", path, false);
  c.tokenize_chinese_chars = get_bool(j, "tokenize_chinese_chars", path, c.tokenize_chinese_chars);
  if (j.contains("never_split") && j["never_split"].is_array())
    for (const json& t : j["never_split"])
      if (t.is_string()) c.never_split.push_back(t.get<std::string>());
  // model_max_length is 1e30 when unset (HF's VERY_LARGE_INTEGER): only a plausible value counts.
  if (j.contains("model_max_length") && j["model_max_length"].is_number()) {
    double v = j["model_max_length"].get<double>();
    if (v >= 1 && v <= 1e7) c.model_max_length = int(v);
  }
  read_special_tokens(j, c);
  if (j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object())
    for (const auto& [id, t] : j["added_tokens_decoder"].items())
      if (auto s = token_text(t)) {
        // Ids are vocabulary positions: up to 9 digits (stoll would throw on "1e3" or 20 digits).
        if (id.empty() || id.size() > 9 || id.find_first_not_of("0123456789") != std::string::npos)
          fail_model("{}: added_tokens_decoder key \"{}\" is not a token id", path, id.substr(0, 40));
        added[std::stoll(id)] = *s;
      }
}

// Puts added tokens with ids past the vocabulary at those ids, and lists every added token that is
// not one of the five named specials as never split.
void apply_added(const AddedIds& added, const std::string& path, Vocab& vocab, TokenizerConfig& c) {
  for (const auto& [id, text] : added) {
    if (id >= int64_t(vocab.size())) {
      if (id != int64_t(vocab.size()) && vocab.id_of(text) < 0)
        fail_model("{}: added token \"{}\" has id {}, but the vocabulary ends at {}", path, text, id,
                   vocab.size());
      if (vocab.id_of(text) < 0) vocab.add(text);
    }
    bool named = text == c.unk_token || text == c.cls_token || text == c.sep_token || text == c.pad_token ||
                 text == c.mask_token;
    auto& extra = c.extra_special_tokens;
    if (!named && std::find(extra.begin(), extra.end(), text) == extra.end()) extra.push_back(text);
  }
}

// Whether a vocabulary has letters that lower-casing changes, outside bracketed specials ([CLS],
// [unused0]): true for cased vocabularies, false for uncased ones, built from lower-cased text.
bool has_cased_tokens(const Vocab& vocab) {
  for (const std::string& t : vocab.tokens()) {
    if (t.size() > 2 && t.front() == '[' && t.back() == ']') continue;
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    for (size_t i = 0; i < t.size();) {
      Utf8Char u = utf8_next(p + i, p + t.size());
      i += u.size;
      char32_t low[2];
      if (unicode::to_lower(u.cp, low) != 1 || low[0] != u.cp) return true;  // not ℝ: upper case without a lower
    }
  }
  return false;
}

// The Tokenizer, with a missing special token reported against the file that was read.
Tokenizer make_tokenizer(const std::string& path, Vocab vocab, TokenizerConfig config) {
  try {
    return Tokenizer(std::move(vocab), std::move(config));
  } catch (const Error& e) {
    fail(e.kind(), "{}: {}", path, e.what());
  }
}

Tokenizer load_vocab_txt(const std::string& vocab_path, const fs::path& dir) {
  Vocab vocab = Vocab::from_vocab_txt(vocab_path);
  TokenizerConfig c;
  AddedIds added;
  std::string config = (dir / "tokenizer_config.json").string();
  bool have_config = file_exists(config);
  if (have_config) read_tokenizer_config(config, c, added);
  if (std::string map = (dir / "special_tokens_map.json").string(); file_exists(map)) {
    json j = read_json_file(map);
    if (j.is_object()) read_special_tokens(j, c);
  }
  if (std::string at = (dir / "added_tokens.json").string(); file_exists(at)) {
    json j = read_json_file(at);
    if (j.is_object())
      for (const auto& [text, id] : j.items())
        if (id.is_number_integer()) added[id.get<int64_t>()] = text;
  }
  if (!have_config) c.lowercase = !has_cased_tokens(vocab);
  apply_added(added, vocab_path, vocab, c);
  return make_tokenizer(vocab_path, std::move(vocab), std::move(c));
}

Tokenizer load_tokenizer_json(const std::string& path, const fs::path& dir) {
  json j = read_json_file(path);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    fail_model("{}: not a Hugging Face tokenizer.json (no \"model\" object)", path);
  const json& model = j["model"];
  std::string type = model.value("type", "WordPiece");
  if (type != "WordPiece" || !model.contains("vocab") || !model["vocab"].is_object())
    fail_model("{}: model type \"{}\" is not supported; bertctl reads WordPiece (BERT) tokenizers", path, type);

  // The vocabulary: token -> id, stored as an object.
  std::vector<std::string> tokens(model["vocab"].size());
  std::vector<bool> seen(tokens.size());
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= int64_t(tokens.size()) ||
        seen[size_t(id.get<int64_t>())])
      fail_model("{}: vocabulary ids must be 0..{} without gaps or repeats (token \"{}\")", path,
                 tokens.size() - 1, text);
    tokens[size_t(id.get<int64_t>())] = text;
    seen[size_t(id.get<int64_t>())] = true;
  }
  Vocab vocab(std::move(tokens));

  TokenizerConfig c;
  c.unk_token = model.value("unk_token", c.unk_token);
  c.continuing_subword_prefix = model.value("continuing_subword_prefix", c.continuing_subword_prefix);
  c.max_input_chars_per_word = model.value("max_input_chars_per_word", c.max_input_chars_per_word);

  const json& norm = j.contains("normalizer") ? j["normalizer"] : json();
  if (norm.is_null()) {  // no normalizer at all
    c.lowercase = false;
    c.strip_accents = false;
    c.clean_text = false;
    c.tokenize_chinese_chars = false;
  } else if (norm.value("type", "") == "BertNormalizer") {
    c.clean_text = get_bool(norm, "clean_text", path, true);
    c.tokenize_chinese_chars = get_bool(norm, "handle_chinese_chars", path, true);
    c.lowercase = get_bool(norm, "lowercase", path, true);
    if (norm.contains("strip_accents") && !norm["strip_accents"].is_null())
      c.strip_accents = get_bool(norm, "strip_accents", path, false);
  } else {
    fail_model("{}: normalizer \"{}\" is not supported; bertctl reproduces BertNormalizer", path,
               norm.value("type", "?"));
  }
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null() &&
      j["pre_tokenizer"].value("type", "") != "BertPreTokenizer")
    fail_model("{}: pre-tokenizer \"{}\" is not supported; bertctl reproduces BertPreTokenizer", path,
               j["pre_tokenizer"].value("type", "?"));

  // [CLS] and [SEP] from the post-processor: TemplateProcessing's single template is
  // [CLS] $A [SEP]; BertProcessing names them as ["[SEP]", 102].
  if (j.contains("post_processor") && j["post_processor"].is_object()) {
    const json& pp = j["post_processor"];
    std::string pp_type = pp.value("type", "");
    if (pp_type == "TemplateProcessing" && pp.contains("single") && pp["single"].is_array()) {
      std::vector<std::string> specials;
      for (const json& piece : pp["single"])
        if (piece.contains("SpecialToken")) specials.push_back(piece["SpecialToken"].value("id", ""));
      if (specials.size() == 2) {
        c.cls_token = specials[0];
        c.sep_token = specials[1];
      }
    } else if (pp_type == "BertProcessing") {
      if (pp.contains("cls") && pp["cls"].is_array() && !pp["cls"].empty() && pp["cls"][0].is_string())
        c.cls_token = pp["cls"][0].get<std::string>();
      if (pp.contains("sep") && pp["sep"].is_array() && !pp["sep"].empty() && pp["sep"][0].is_string())
        c.sep_token = pp["sep"][0].get<std::string>();
    }
  }
  if (j.contains("padding") && j["padding"].is_object())
    c.pad_token = j["padding"].value("pad_token", c.pad_token);

  AddedIds added;
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const json& t : j["added_tokens"])
      if (t.contains("id") && t["id"].is_number_integer() && t.contains("content") && t["content"].is_string())
        added[t["id"].get<int64_t>()] = t["content"].get<std::string>();
  apply_added(added, path, vocab, c);

  // model_max_length lives in tokenizer_config.json only.
  if (std::string config = (dir / "tokenizer_config.json").string(); file_exists(config)) {
    TokenizerConfig from_config;
    AddedIds unused;
    read_tokenizer_config(config, from_config, unused);
    c.model_max_length = from_config.model_max_length;
  }
  return make_tokenizer(path, std::move(vocab), std::move(c));
}

}  // namespace

namespace {

fs::path parent_of(const std::string& path) {
  fs::path p(path);
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

void require_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail_io("cannot read {}: is a directory", path);
  if (!file_exists(path)) fail_io("cannot open {}: No such file or directory", path);
}

// A value of the wrong type somewhere in the JSON files becomes a model error naming the path.
template <class F>
Tokenizer named_errors(const std::string& path, F&& load) {
  try {
    return load();
  } catch (const json::exception& e) {
    fail_model("{}: unexpected tokenizer file contents: {}", path, e.what());
  }
}

}  // namespace

Tokenizer Tokenizer::from_vocab_txt(const std::string& path) {
  require_file(path);
  return named_errors(path, [&] { return load_vocab_txt(path, parent_of(path)); });
}

Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  require_file(path);
  return named_errors(path, [&] { return load_tokenizer_json(path, parent_of(path)); });
}

Tokenizer Tokenizer::from_path(const std::string& path) {
  std::error_code ec;
  fs::path p(path);
  if (fs::is_directory(p, ec)) {
    if (file_exists((p / "tokenizer.json").string())) return from_tokenizer_json((p / "tokenizer.json").string());
    if (file_exists((p / "vocab.txt").string())) return from_vocab_txt((p / "vocab.txt").string());
    fail_model("{}: no tokenizer.json or vocab.txt in this directory", path);
  }
  if (p.extension() == ".json") return from_tokenizer_json(path);
  return from_vocab_txt(path);
}

}  // namespace bert::text
