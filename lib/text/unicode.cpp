#include "text/unicode.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <utf8proc.h>  // categories, case mapping, decomposition, composition

#include "core/error.hpp"  // BERT_CHECK

namespace bert::text::unicode {

namespace {

// Code points assigned in Unicode 15.0 (utf8proc 2.8) that Unicode 14.0 (Python 3.11's unicodedata,
// used by the reference) leaves unassigned. Derived by comparing unicodedata.category() with
// utf8proc_category() over every code point; the test checks utf8proc's version so that a newer
// utf8proc is noticed.
constexpr std::pair<char32_t, char32_t> kAssignedAfter14[] = {
    {0xCF3, 0xCF3},     {0xECE, 0xECE},     {0x10EFD, 0x10EFF}, {0x1123F, 0x11241}, {0x11B00, 0x11B09},
    {0x11F00, 0x11F10}, {0x11F12, 0x11F3A}, {0x11F3E, 0x11F59}, {0x1342F, 0x1342F}, {0x13439, 0x13455},
    {0x1B132, 0x1B132}, {0x1B155, 0x1B155}, {0x1D2C0, 0x1D2D3}, {0x1DF25, 0x1DF2A}, {0x1E030, 0x1E06D},
    {0x1E08F, 0x1E08F}, {0x1E4D0, 0x1E4F9}, {0x1F6DC, 0x1F6DC}, {0x1F774, 0x1F776}, {0x1F77B, 0x1F77F},
    {0x1F7D9, 0x1F7D9}, {0x1FA75, 0x1FA77}, {0x1FA87, 0x1FA88}, {0x1FAAD, 0x1FAAF}, {0x1FABB, 0x1FABD},
    {0x1FABF, 0x1FABF}, {0x1FACE, 0x1FACF}, {0x1FADA, 0x1FADB}, {0x1FAE8, 0x1FAE8}, {0x1FAF7, 0x1FAF8},
    {0x2B739, 0x2B739}, {0x31350, 0x323AF},
};

bool assigned_after_14(char32_t cp) {
  auto it = std::upper_bound(std::begin(kAssignedAfter14), std::end(kAssignedAfter14), cp,
                             [](char32_t c, const std::pair<char32_t, char32_t>& r) { return c < r.first; });
  return it != std::begin(kAssignedAfter14) && cp <= std::prev(it)->second;
}

// Starters (combining class 0) that are the second part of some canonical composition: Hangul
// vowels and trailing consonants, and a few Indic and Sinhala vowel signs. Found once by
// decomposing every character that NFC keeps whole.
const std::vector<char32_t>& composing_starters() {
  static const std::vector<char32_t> table = [] {
    std::vector<char32_t> out;
    char32_t d[kMaxDecomposition], c[kMaxDecomposition];
    for (char32_t cp = 0xC0; cp < 0x30000; ++cp) {
      if (cp >= 0xD800 && cp < 0xE000) continue;
      size_t n = decompose(cp, d);
      if (n < 2) continue;
      std::copy(d, d + n, c);
      if (compose(c, n) != 1 || c[0] != cp) continue;  // excluded from composition
      for (size_t i = 1; i < n; ++i)
        if (combining_class(d[i]) == 0) out.push_back(d[i]);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }();
  return table;
}

}  // namespace

int category(char32_t cp) {
  int c = utf8proc_category(utf8proc_int32_t(cp));
  if (c != UTF8PROC_CATEGORY_CN && cp >= 0xCF3 && assigned_after_14(cp)) return UTF8PROC_CATEGORY_CN;
  return c;
}

bool is_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  if (cp < 0x20 || cp == 0x7F) return true;
  if (cp < 0x80) return false;
  int c = category(cp);
  return c == UTF8PROC_CATEGORY_CN || c >= UTF8PROC_CATEGORY_CC;  // Cc Cf Cs Co, and Cn
}

bool is_whitespace(char32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  if (cp < 0x80) return false;
  return category(cp) == UTF8PROC_CATEGORY_ZS;
}

bool is_line_separator(char32_t cp) { return cp == 0x2028 || cp == 0x2029; }

bool is_punctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  if (cp < 0x80) return false;
  int c = category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) ||
         (cp >= 0x2B820 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t cp) { return cp >= 0x300 && category(cp) == UTF8PROC_CATEGORY_MN; }

size_t to_lower(char32_t cp, char32_t out[2]) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  // SpecialCasing.txt: the one unconditional lower-case mapping longer than one character.
  if (cp == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  out[0] = char32_t(utf8proc_tolower(utf8proc_int32_t(cp)));
  return 1;
}

int combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  return utf8proc_get_property(utf8proc_int32_t(cp))->combining_class;
}

size_t decompose(char32_t cp, char32_t* out) {
  if (cp < 0xC0) {
    out[0] = cp;
    return 1;
  }
  int boundclass = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(utf8proc_int32_t(cp), reinterpret_cast<utf8proc_int32_t*>(out),
                                               kMaxDecomposition, UTF8PROC_DECOMPOSE, &boundclass);
  BERT_CHECK(n >= 1 && size_t(n) <= kMaxDecomposition);
  return size_t(n);
}

size_t compose(char32_t* buf, size_t n) {
  static_assert(sizeof(char32_t) == sizeof(utf8proc_int32_t));
  utf8proc_ssize_t m = utf8proc_normalize_utf32(reinterpret_cast<utf8proc_int32_t*>(buf), utf8proc_ssize_t(n),
                                                utf8proc_option_t(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
  BERT_CHECK(m >= 0);
  return size_t(m);
}

bool nfc_boundary_before(char32_t cp) {
  if (cp < 0x300) return true;
  if (combining_class(cp) != 0) return false;
  const auto& starters = composing_starters();
  if (std::binary_search(starters.begin(), starters.end(), cp)) return false;
  char32_t d[kMaxDecomposition];
  decompose(cp, d);
  return d[0] == cp || (combining_class(d[0]) == 0 && !std::binary_search(starters.begin(), starters.end(), d[0]));
}

}  // namespace bert::text::unicode
