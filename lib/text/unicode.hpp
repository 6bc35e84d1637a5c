// Character properties as the reference tokenizer sees them. The slow BertTokenizer runs on Python
// 3.11, whose unicodedata is Unicode 14.0; utf8proc 2.8 (Debian 12) is Unicode 15.0. The only
// differences are the 4,489 code points first assigned in 15.0, which Python calls unassigned (Cn,
// so "control": dropped by the cleaner); category() reports them as Cn too.
//
//   unicode::is_punctuation(U'!')   unicode::is_cjk(U'中')   unicode::category(U'é') == UTF8PROC_CATEGORY_LL
//   char32_t low[2];  size_t n = unicode::to_lower(U'İ', low);   // n == 2: 'i', U+0307 (Python lower())
#pragma once
#include <cstddef>
#include <cstdint>

namespace bert::text::unicode {

// utf8proc_category_t value, as of Unicode 14.0.
int category(char32_t cp);

// BertTokenizer's _is_control: category C* except \t \n \r (they are whitespace).
bool is_control(char32_t cp);
// BertTokenizer's _is_whitespace: space, \t, \n, \r and category Zs.
bool is_whitespace(char32_t cp);
// Python's str.split() separators that survive cleaning: U+2028 (Zl) and U+2029 (Zp).
bool is_line_separator(char32_t cp);
// BertTokenizer's _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126, and category P*.
bool is_punctuation(char32_t cp);
// BertTokenizer's _is_chinese_char: the CJK ideograph blocks (not Hiragana, Katakana or Hangul).
bool is_cjk(char32_t cp);
bool is_nonspacing_mark(char32_t cp);  // category Mn (dropped when stripping accents)

// Python's str.lower() of one character (full mapping, no context): at most 2 code points.
size_t to_lower(char32_t cp, char32_t out[2]);

int combining_class(char32_t cp);

constexpr size_t kMaxDecomposition = 8;
// Canonical (NFD) decomposition of one character, Hangul included; writes 1..kMaxDecomposition.
size_t decompose(char32_t cp, char32_t* out);

// Canonical composition, in place, of a sequence already decomposed and canonically ordered.
// Returns the new length.
size_t compose(char32_t* buf, size_t n);

// True when NFC never joins cp with what precedes it, nor reorders across it: cp is a starter,
// its decomposition starts with a starter, and neither is the second part of any composition.
// Text split before such characters can be normalized piece by piece.
bool nfc_boundary_before(char32_t cp);

}  // namespace bert::text::unicode
