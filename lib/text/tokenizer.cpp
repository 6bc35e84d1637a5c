#include "text/tokenizer.hpp"

#include <algorithm>
#include <cstring>  // memcpy

#include "core/error.hpp"  // fail_model, fail_usage
#include "text/utf8.hpp"   // utf8_is_continuation

namespace bert::text {

namespace {

bool is_ascii(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    if (v & 0x8080808080808080ull) return false;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
  return true;
}

// Byte offset -> code point offset, for offsets that mostly increase.
class CharCounter {
 public:
  explicit CharCounter(std::string_view text) : text_(text) {}
  uint32_t at(uint32_t byte) {
    if (byte < byte_) byte_ = chars_ = 0;
    for (; byte_ < byte; ++byte_) chars_ += !utf8_is_continuation(static_cast<unsigned char>(text_[byte_]));
    return chars_;
  }

 private:
  std::string_view text_;
  uint32_t byte_ = 0, chars_ = 0;
};

// Hugging Face's slow truncate_sequences, strategy longest_first, for a pair: remove from the longer
// segment until both are equally long, then split the rest, the second segment losing the odd one.
// (The same as removing one token at a time from the longer, from the second when equal.)
void truncate_longest_first(size_t& na, size_t& nb, size_t remove) {
  size_t first = std::min(na > nb ? na - nb : nb - na, remove);
  size_t second = remove - first;
  size_t from_a, from_b;
  if (na > nb) {
    from_a = first + second / 2;
    from_b = second - second / 2;
  } else {
    from_a = second / 2;
    from_b = first + second - second / 2;
  }
  na -= std::min(from_a, na);
  nb -= std::min(from_b, nb);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab, TokenizerConfig config) : vocab_(std::move(vocab)), config_(std::move(config)) {
  auto require = [&](const std::string& token, const char* role) {
    int32_t id = vocab_.id_of(token);
    if (id < 0)
      fail_model("the vocabulary ({} tokens) has no {} token \"{}\"; check the tokenizer files", vocab_.size(),
                 role, token);
    return id;
  };
  unk_id_ = require(config_.unk_token, "unknown-word");
  cls_id_ = require(config_.cls_token, "classifier");
  sep_id_ = require(config_.sep_token, "separator");
  pad_id_ = require(config_.pad_token, "padding");
  if (int32_t id = vocab_.id_of(config_.mask_token); id >= 0) mask_id_ = id;

  // The added tokens: matched anywhere in the text and never split.
  std::vector<PreTokenizer::Token> added;
  for (const std::string* t : {&config_.unk_token, &config_.cls_token, &config_.sep_token, &config_.pad_token,
                               &config_.mask_token})
    if (int32_t id = vocab_.id_of(*t); id >= 0) added.push_back({*t, id});
  for (const std::string& t : config_.extra_special_tokens) {
    if (t.empty()) continue;
    int32_t id = vocab_.id_of(t);
    added.push_back({t, id >= 0 ? id : vocab_.add(t)});
  }
  for (const auto& t : added) special_ids_.push_back(t.id);
  std::sort(special_ids_.begin(), special_ids_.end());
  special_ids_.erase(std::unique(special_ids_.begin(), special_ids_.end()), special_ids_.end());

  std::vector<PreTokenizer::Token> never_split;
  for (const std::string& t : config_.never_split) {
    int32_t id = vocab_.id_of(t);
    never_split.push_back({t, id >= 0 ? id : unk_id_});
  }
  NormalizerOptions norm;
  norm.clean_text = config_.clean_text;
  norm.handle_chinese_chars = config_.tokenize_chinese_chars;
  norm.lowercase = config_.lowercase;
  norm.strip_accents = config_.strip_accents.value_or(config_.lowercase);
  pre_ = PreTokenizer(norm, std::move(added), never_split);
  wordpiece_ = WordPiece(vocab_, config_.continuing_subword_prefix, config_.max_input_chars_per_word, unk_id_);
}

bool Tokenizer::is_special(int32_t id) const {
  return std::binary_search(special_ids_.begin(), special_ids_.end(), id);
}

void Tokenizer::tokenize_into(std::string_view text, std::vector<Piece>& out) const {
  thread_local Words words;
  thread_local std::vector<SubWord> sub;
  words.clear();
  pre_.split(text, words);
  int32_t index = 0;
  for (const Word& w : words.words) {
    const int32_t word = index++;
    if (w.id >= 0) {
      out.push_back({w.id, w.src_begin, w.src_end, word});
      continue;
    }
    sub.clear();
    wordpiece_.tokenize(vocab_, words.word(w), w.chars, sub);
    if (w.map == Word::kIdentity) {
      for (const SubWord& s : sub) out.push_back({s.id, w.src_begin + s.begin, w.src_begin + s.end, word});
    } else {
      for (const SubWord& s : sub)
        out.push_back({s.id, words.src_begins[w.map + s.begin], words.src_ends[w.map + s.end - 1], word});
    }
  }
}

void Tokenizer::append_segment(std::string_view text, const std::vector<Piece>& pieces, size_t count,
                               int32_t type_id, const EncodeOptions& options, Encoding& out) const {
  const bool chars = options.offset_unit == OffsetUnit::OFFSET_CHARS && !is_ascii(text);
  CharCounter counter(text);
  for (size_t i = 0; i < count; ++i) {
    const Piece& p = pieces[i];
    out.ids.push_back(p.id);
    out.type_ids.push_back(type_id);
    out.attention_mask.push_back(1);
    if (options.word_ids) out.word_ids.push_back(p.word);
    if (chars)
      out.offsets.push_back({counter.at(p.begin), counter.at(p.end)});
    else
      out.offsets.push_back({p.begin, p.end});
  }
}

void Tokenizer::encode_into(std::string_view text, const EncodeOptions& options, Encoding& out) const {
  encode_impl(text, nullptr, options, out);
}

void Tokenizer::encode_pair_into(std::string_view a, std::string_view b, const EncodeOptions& options,
                                 Encoding& out) const {
  encode_impl(a, &b, options, out);
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  Encoding e;
  encode_into(text, options, e);
  return e;
}

Encoding Tokenizer::encode_pair(std::string_view a, std::string_view b, const EncodeOptions& options) const {
  Encoding e;
  encode_pair_into(a, b, options, e);
  return e;
}

void Tokenizer::encode_impl(std::string_view a, const std::string_view* b, const EncodeOptions& options,
                            Encoding& out) const {
  const bool pair = b != nullptr;
  thread_local std::vector<Piece> pa, pb;
  pa.clear();
  pb.clear();
  tokenize_into(a, pa);
  if (pair) tokenize_into(*b, pb);

  size_t na = pa.size(), nb = pb.size();
  const size_t specials = options.add_special_tokens ? (pair ? 3 : 2) : 0;
  const size_t total = na + nb + specials;
  out.num_tokens_untruncated = total;
  if (options.max_length < 0) fail_usage("max_length must not be negative (got {})", options.max_length);
  const size_t max_length = size_t(options.max_length);
  if (max_length > 0 && total > max_length) {
    // HF logs an error and returns the text untruncated when nothing but special tokens would remain
    // of a single text; we keep [CLS] [SEP] instead. Fewer than the special tokens cannot be done.
    if (max_length < specials)
      fail_usage("max_length {} is less than the {} special tokens of a {}", max_length, specials,
                 pair ? "pair" : "text");
    size_t remove = total - max_length;
    if (pair)
      truncate_longest_first(na, nb, remove);
    else
      na -= std::min(remove, na);
  }

  out.ids.clear();
  out.type_ids.clear();
  out.attention_mask.clear();
  out.offsets.clear();
  out.word_ids.clear();
  auto push_special = [&](int32_t id, int32_t type_id, uint8_t mask) {
    out.ids.push_back(id);
    out.type_ids.push_back(type_id);
    out.attention_mask.push_back(mask);
    out.offsets.push_back({0, 0});
    if (options.word_ids) out.word_ids.push_back(-1);
  };
  // Without special tokens HF's prepare_for_model gives type id 0 to both segments.
  const int32_t type_b = options.add_special_tokens ? 1 : 0;
  if (specials) push_special(cls_id_, 0, 1);
  append_segment(a, pa, na, 0, options, out);
  if (specials) push_special(sep_id_, 0, 1);
  if (pair) {
    append_segment(*b, pb, nb, type_b, options, out);
    if (specials) push_special(sep_id_, type_b, 1);
  }
  if (options.pad_to_max_length)
    while (out.ids.size() < max_length) push_special(pad_id_, 0, 0);
}

std::vector<std::string> Tokenizer::basic_tokens(std::string_view text) const {
  Words words;
  pre_.split(text, words);
  std::vector<std::string> out;
  for (const Word& w : words.words) out.emplace_back(words.word(w));
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  // convert_tokens_to_string: " ".join(tokens).replace(" ##", "").strip()
  std::string text;
  const std::string& prefix = config_.continuing_subword_prefix;
  for (int32_t id : ids) {
    if (id < 0 || size_t(id) >= vocab_.size()) fail_usage("token id {} is not in the vocabulary", id);
    if (skip_special_tokens && is_special(id)) continue;
    const std::string& t = vocab_.token(id);
    if (!text.empty() && !prefix.empty() && t.compare(0, prefix.size(), prefix) == 0)
      text.append(t, prefix.size());
    else {
      if (!text.empty()) text.push_back(' ');
      text.append(t);
    }
  }
  // clean_up_tokenization
  static const std::pair<const char*, const char*> kCleanUp[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& [from, to] : kCleanUp) {
    std::string out;
    size_t n = std::strlen(from), at = 0;
    for (size_t hit; (hit = text.find(from, at)) != std::string::npos; at = hit + n) {
      out.append(text, at, hit - at);
      out.append(to);
    }
    out.append(text, at);
    text.swap(out);
  }
  return text;
}

}  // namespace bert::text
