// WordPiece: greedy longest-match-first segmentation of one word (BertTokenizer's
// WordpieceTokenizer; llama.cpp's WPM tokenizer does the same). From the start of the word, take the
// longest prefix that is in the vocabulary; continue from its end with the longest piece that is in
// the vocabulary with the "##" prefix; a word with a part that matches nothing, or longer than
// max_input_chars_per_word code points, is one [UNK]. Pieces end on code point boundaries.
//
// Lookups never allocate: word-initial pieces are looked up in the vocabulary's own map, and
// continuation pieces in a second map keyed by the text after "##".
//
//   WordPiece wp(vocab, "##", 100, unk_id);
//   std::vector<SubWord> out;  wp.tokenize(vocab, "unaffable", 9, out);   // una ##ffa ##ble
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/string_map.hpp"  // StringIdMap
#include "text/vocab.hpp"       // Vocab

namespace bert::text {

struct SubWord {
  int32_t id;
  uint32_t begin, end;  // bytes of the word
};

class WordPiece {
 public:
  WordPiece() = default;
  WordPiece(const Vocab& vocab, std::string_view continuation_prefix, int max_input_chars_per_word,
            int32_t unk_id);

  // Appends the pieces of `word` (chars = its length in code points) to out.
  void tokenize(const Vocab& vocab, std::string_view word, size_t chars, std::vector<SubWord>& out) const;

 private:
  StringIdMap continuation_;  // "##ing" is stored as "ing"
  size_t max_initial_ = 0, max_continuation_ = 0;  // longest key, in bytes
  int max_chars_ = 100;
  int32_t unk_id_ = -1;
};

}  // namespace bert::text
