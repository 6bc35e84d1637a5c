// UTF-8 decoding, validation and repair, following Unicode's "maximal subpart" rule (Unicode 15,
// section 3.9, table 3-7), which is also what Python's bytes.decode("utf-8", errors="replace") does:
// every maximal prefix of a well-formed sequence that cannot be completed becomes one U+FFFD, and so
// does every byte that cannot start a sequence (C0, C1, F5..FF, stray continuation bytes).
//
//   size_t bad = utf8_find_invalid(line);        // npos when valid
//   std::string fixed;  utf8_replace_invalid(line, fixed);   // "a\xffb" -> "a\uFFFDb"
//   Utf8Char c = utf8_next(p, end);              // c.cp, c.size; cp = U+FFFD for a bad subpart
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bert::text {

constexpr char32_t kReplacementChar = 0xFFFD;

struct Utf8Char {
  char32_t cp;    // kReplacementChar when !valid
  uint32_t size;  // bytes consumed (at least 1)
  bool valid;
};

// Decodes the sequence at p (p < end).
inline Utf8Char utf8_next(const unsigned char* p, const unsigned char* end) {
  unsigned char b0 = p[0];
  if (b0 < 0x80) return {b0, 1, true};
  // Expected length and the allowed range of the second byte (table 3-7).
  uint32_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return {kReplacementChar, 1, false};
  }
  for (uint32_t k = 1; k < len; ++k) {
    if (p + k >= end) return {kReplacementChar, k, false};
    unsigned char b = p[k];
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return {kReplacementChar, k, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, len, true};
}

// Byte offset of the first ill-formed sequence, or std::string_view::npos.
size_t utf8_find_invalid(std::string_view s);

// out = s with each maximal ill-formed subpart replaced by U+FFFD. Returns false (and leaves out
// equal to s) when s was valid.
bool utf8_replace_invalid(std::string_view s, std::string& out);

void utf8_append(std::string& out, char32_t cp);

// Number of code points (ill-formed subparts count as one each, as after replacement).
size_t utf8_count(std::string_view s);

inline bool utf8_is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Byte position of every code point of s, then s.size(): maps character offsets to bytes.
std::vector<uint32_t> utf8_char_starts(std::string_view s);

}  // namespace bert::text
