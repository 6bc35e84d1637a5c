// PreTokenizer: text -> words, i.e. everything before WordPiece. Three layers:
//   1. added (special) tokens are found in the raw text and cut out first, literally and
//      case-sensitively, longest match first (PreTrainedTokenizer.tokenize's trie split);
//   2. each piece between them is split on ASCII whitespace into spans; a span of plain ASCII
//      letters, digits and punctuation takes the fast path (table lookups, no utf8proc);
//   3. any other span (non-ASCII bytes or control characters) goes through normalize() and is then
//      split on its word breaks and on punctuation.
// A whitespace-delimited word equal to a special token or a never_split entry after cleaning is kept
// whole (BasicTokenizer's never_split; e.g. "[MA\x01SK]" in a cased model is "[MASK]").
//
//   PreTokenizer pre(options, {{"[CLS]", 101}, ...}, {});
//   Words w;  pre.split("Hello, [MASK]!", w);   // hello | , | [MASK] (id 103) | !
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/normalizer.hpp"  // NormalizerOptions, NormChar
#include "text/string_map.hpp"  // StringIdMap

namespace bert::text {

struct Word {
  static constexpr uint32_t kIdentity = UINT32_MAX;
  uint32_t begin, end;          // the normalized word: Words::text[begin, end)
  uint32_t src_begin, src_end;  // bytes of the original text it came from
  uint32_t map;                 // kIdentity: byte k came from src_begin + k; else index of byte 0 in
                                // Words::src_begins / src_ends (one entry per byte of the word)
  uint32_t chars;               // code points, for max_input_chars_per_word
  int32_t id;                   // >= 0: a token that is never split, with this id
};

// Output of PreTokenizer::split, reused from call to call (it also holds scratch space).
struct Words {
  std::string text;
  std::vector<Word> words;
  std::vector<uint32_t> src_begins, src_ends;
  std::vector<NormChar> chars, tmp;  // scratch for the Unicode path
  std::string scratch;

  void clear() {
    text.clear();
    words.clear();
    src_begins.clear();
    src_ends.clear();
  }
  std::string_view word(const Word& w) const { return std::string_view(text).substr(w.begin, w.end - w.begin); }
};

class PreTokenizer {
 public:
  struct Token {
    std::string text;
    int32_t id;
  };

  PreTokenizer() = default;
  // added: tokens matched anywhere in the raw text (special and added tokens); never_split: words kept
  // whole when they stand alone between whitespace (the added tokens are included automatically).
  PreTokenizer(NormalizerOptions options, std::vector<Token> added, const std::vector<Token>& never_split);

  void split(std::string_view text, Words& out) const;

 private:
  struct Added {
    std::string text;
    int32_t id;
    bool fold;  // also match ASCII upper case (lower-casing models; see match_added)
  };
  size_t find_candidate(std::string_view text, size_t from) const;
  const Added* match_added(std::string_view text, size_t pos) const;  // longest match at pos, or null
  void split_segment(std::string_view text, size_t b, size_t e, Words& out) const;
  void split_unicode(std::string_view text, size_t b, size_t e, Words& out) const;
  bool keep_whole_ascii(std::string_view text, size_t b, size_t e, Words& out) const;

  NormalizerOptions options_;
  std::vector<Added> added_;             // longest first
  std::array<bool, 256> first_byte_{};  // bytes an added token can start with
  int only_first_byte_ = -1;            // >= 0: the one such byte (memchr)
  StringIdMap never_split_;             // added tokens + configured never_split words
  size_t never_split_max_ = 0;
  bool ascii_never_split_ = false;  // configured words the fast path must look for
};

}  // namespace bert::text
