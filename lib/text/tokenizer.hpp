// Tokenizer: Hugging Face's BERT tokenizer (the slow BertTokenizer; the Rust BertNormalizer +
// BertPreTokenizer + WordPiece agree with it except where fixtures/README.md says otherwise).
//
//   auto tok = bert::text::Tokenizer::from_path("model_dir_or_vocab.txt");  // or tokenizer.json
//   bert::text::EncodeOptions opt;  opt.max_length = 128;
//   bert::text::Encoding e = tok.encode("Hello, world!", opt);       // ids 101 7592 1010 2088 999 102
//   bert::text::Encoding p = tok.encode_pair("How old?", "Six.", opt);  // type_ids 0.. then 1..
//   tok.token(e.ids[1]) == "hello";
//   tok.encode_into(line, opt, e);   // the same, reusing e's storage (the hot path of a filter)
//
// Thread-safe: encode() is const; its scratch space is per thread, so many threads may share one
// Tokenizer.
//
// The pipeline: pre_tokenizer.hpp (special tokens, ASCII fast path, normalizer.hpp for everything
// else, punctuation) -> wordpiece.hpp -> special tokens, truncation, padding, offsets (tokenizer.cpp).
// Loading from files is in tokenizer_files.cpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/pre_tokenizer.hpp"  // PreTokenizer, Words
#include "text/vocab.hpp"          // Vocab
#include "text/wordpiece.hpp"      // WordPiece

namespace bert::text {

struct TokenizerConfig {
  bool lowercase = true;                     // do_lower_case
  std::optional<bool> strip_accents;         // unset: follows lowercase (as in the reference)
  bool tokenize_chinese_chars = true;        // spaces around CJK ideographs
  bool clean_text = true;                    // drop control characters (always on in the slow reference)
  int max_input_chars_per_word = 100;        // longer words become [UNK]
  std::string continuing_subword_prefix = "##";
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  std::vector<std::string> extra_special_tokens;  // added tokens that are never split
  std::vector<std::string> never_split;      // BasicTokenizer never_split: whole words kept as they are
  int model_max_length = 0;                  // 0 = unknown
};

enum class OffsetUnit { OFFSET_CHARS, OFFSET_BYTES };

struct EncodeOptions {
  bool add_special_tokens = true;  // [CLS] A [SEP] (B [SEP])
  int max_length = 0;              // 0 = no truncation; counts special tokens; longest-first for pairs
  bool pad_to_max_length = false;  // pad with [PAD] up to max_length
  OffsetUnit offset_unit = OffsetUnit::OFFSET_CHARS;
  bool word_ids = false;           // fill Encoding::word_ids (token and QA pipelines need them)
};

// One tokenized text (or pair). All vectors have the same length.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;        // 0 for [CLS] A [SEP], 1 for B [SEP]
  std::vector<uint8_t> attention_mask;  // 0 at padding
  // [start, end) into the original text of the segment the token came from (chars or bytes per
  // EncodeOptions); special and padding tokens get {0, 0}.
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  size_t num_tokens_untruncated = 0;    // length before truncation, with special tokens
  // With EncodeOptions::word_ids: index of the pre-tokenized word (whitespace/punctuation split)
  // within its segment, -1 for special and padding tokens (HF's word_ids(), None there).
  std::vector<int32_t> word_ids;
};

class Tokenizer {
 public:
  // Throws bert::Error (ERROR_MODEL) when the vocabulary lacks the [UNK], [CLS], [SEP] or [PAD]
  // token named by the config. Extra special tokens missing from the vocabulary are appended to it.
  Tokenizer(Vocab vocab, TokenizerConfig config);

  // A directory (tokenizer.json, else vocab.txt + tokenizer_config.json + special_tokens_map.json),
  // a vocab.txt file, or a tokenizer.json file. Throws bert::Error naming the file on failure.
  // A vocab.txt without a tokenizer_config.json beside it is taken as lower-casing unless some
  // ordinary token in it has an upper-case letter (bert-base-cased's vocabulary does).
  static Tokenizer from_path(const std::string& path);
  static Tokenizer from_vocab_txt(const std::string& path);       // + config files beside it, if any
  static Tokenizer from_tokenizer_json(const std::string& path);  // + tokenizer_config.json beside it

  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  Encoding encode_pair(std::string_view a, std::string_view b, const EncodeOptions& options = {}) const;
  void encode_into(std::string_view text, const EncodeOptions& options, Encoding& out) const;
  void encode_pair_into(std::string_view a, std::string_view b, const EncodeOptions& options,
                        Encoding& out) const;

  // The words after cleaning, normalisation and splitting, before WordPiece (for tests).
  std::vector<std::string> basic_tokens(std::string_view text) const;

  const Vocab& vocab() const { return vocab_; }
  const TokenizerConfig& config() const { return config_; }
  // An id past the vocabulary (models pad their embedding rows) reads as the unknown token, as
  // transformers' BertTokenizer.convert_ids_to_tokens has it.
  const std::string& token(int32_t id) const {
    return id >= 0 && size_t(id) < vocab_.size() ? vocab_.token(id) : config_.unk_token;
  }
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  std::optional<int32_t> mask_id() const { return mask_id_; }
  bool is_special(int32_t id) const;

  // Tokens joined, "##" pieces glued, special tokens skipped (HF decode with clean-up of spaces).
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const;

 private:
  // Implementation in tokenizer.cpp and its helpers (normalizer, wordpiece).
  struct Piece {
    int32_t id;
    uint32_t begin, end;  // byte offsets into the text
    int32_t word;         // index of the pre-tokenized word it came from
  };
  void tokenize_into(std::string_view text, std::vector<Piece>& out) const;
  void encode_impl(std::string_view a, const std::string_view* b, const EncodeOptions& options,
                   Encoding& out) const;
  void append_segment(std::string_view text, const std::vector<Piece>& pieces, size_t count, int32_t type_id,
                      const EncodeOptions& options, Encoding& out) const;

  Vocab vocab_;
  TokenizerConfig config_;
  int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
  std::optional<int32_t> mask_id_;
  std::vector<int32_t> special_ids_;  // sorted: every special and added token
  PreTokenizer pre_;
  WordPiece wordpiece_;
};

}  // namespace bert::text
