// The normalizer of the slow BertTokenizer (BasicTokenizer), for text that is not plain ASCII. The
// ASCII fast path in pre_tokenizer.cpp does the same for bytes below 0x80 without calling in here.
//
// In the reference the steps are, in order:
//   1. (uncased) lower-case every character except inside special tokens: PreTrainedTokenizer.tokenize
//      applies str.lower() one character at a time (regex "(.+?)"), so no final-sigma rule, and
//      U+0130 'İ' becomes "i̇" (2 code points);
//   2. clean: drop U+0000, U+FFFD and category C*; \t \n \r and Zs become a space;
//   3. spaces around CJK ideographs;
//   4. NFC, then split on whitespace (str.split(), which also splits on U+2028 and U+2029);
//   5. per word: lower() again (a no-op after step 1) and, if strip_accents (default: follows
//      lower-casing), NFD and drop category Mn;
//   6. split off punctuation (done by the pre-tokenizer on our output).
// With accents stripped, NFD(NFC(x)) == NFD(x), so that path never composes. Without stripping, NFC is
// applied to runs that start at an NFC boundary, so every output character keeps the span of input
// bytes it came from.
//
//   std::vector<NormChar> out, tmp;
//   normalize("Ünïcödé", 0, {}, out, tmp);   // u n i c o d e, each with its source bytes
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace bert::text {

struct NormalizerOptions {
  bool clean_text = true;            // drop controls, map whitespace to ' '
  bool handle_chinese_chars = true;  // word breaks around CJK ideographs
  bool lowercase = true;
  bool strip_accents = true;         // NFD + drop Mn (resolved: unset follows lowercase)
};

// A code point of normalized text and the bytes [begin, end) of the original it came from.
struct NormChar {
  char32_t cp;
  uint32_t begin, end;
};

constexpr char32_t kWordBreak = U' ';

// Appends the normalized form of text to out; whitespace and the sides of CJK ideographs become
// kWordBreak. Byte offsets are relative to text plus `offset`. tmp is scratch space.
void normalize(std::string_view text, uint32_t offset, const NormalizerOptions& options,
               std::vector<NormChar>& out, std::vector<NormChar>& tmp);

}  // namespace bert::text
