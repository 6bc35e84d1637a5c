#include "text/utf8.hpp"

#include <cstring>  // memcpy

namespace bert::text {

namespace {

// Length of the leading run of ASCII bytes, eight at a time.
size_t ascii_prefix(const unsigned char* p, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    if (v & 0x8080808080808080ull) break;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

size_t utf8_find_invalid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  size_t i = 0;
  while (i < s.size()) {
    i += ascii_prefix(p + i, s.size() - i);
    if (i >= s.size()) break;
    Utf8Char c = utf8_next(p + i, end);
    if (!c.valid) return i;
    i += c.size;
  }
  return std::string_view::npos;
}

bool utf8_replace_invalid(std::string_view s, std::string& out) {
  size_t bad = utf8_find_invalid(s);
  out.assign(s.data(), bad == std::string_view::npos ? s.size() : bad);
  if (bad == std::string_view::npos) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  for (size_t i = bad; i < s.size();) {
    Utf8Char c = utf8_next(p + i, end);
    if (c.valid)
      out.append(s.data() + i, c.size);
    else
      utf8_append(out, kReplacementChar);
    i += c.size;
  }
  return true;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

size_t utf8_count(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    size_t a = ascii_prefix(p + i, s.size() - i);
    if (a > 0) {
      i += a;
      n += a - 1;
      continue;
    }
    i += utf8_next(p + i, end).size;
  }
  return n;
}

std::vector<uint32_t> utf8_char_starts(std::string_view s) {
  std::vector<uint32_t> at;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  for (const unsigned char* q = p; q < end; q += utf8_next(q, end).size) at.push_back(uint32_t(q - p));
  at.push_back(uint32_t(s.size()));
  return at;
}

}  // namespace bert::text
