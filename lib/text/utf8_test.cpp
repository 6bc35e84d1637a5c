// UTF-8 validation and repair. Expected replacements were produced by Python 3.11's
// bytes.decode("utf-8", errors="replace"), which the reference pipeline uses.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "text/utf8.hpp"

using namespace bert::text;

namespace {

std::vector<char32_t> decode_all(std::string_view s) {
  std::vector<char32_t> out;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    Utf8Char c = utf8_next(p + i, p + s.size());
    out.push_back(c.cp);
    i += c.size;
  }
  return out;
}

}  // namespace

TEST_CASE("utf8_find_invalid gives the byte offset of the first ill-formed sequence") {
  CHECK(utf8_find_invalid("") == std::string_view::npos);
  CHECK(utf8_find_invalid("plain ASCII that is longer than eight bytes") == std::string_view::npos);
  CHECK(utf8_find_invalid("caf\xc3\xa9 \xe5\x8c\x97\xe4\xba\xac \xf0\x9f\x98\x80") == std::string_view::npos);
  CHECK(utf8_find_invalid("abcdefghij\xff") == 10);
  CHECK(utf8_find_invalid("a\xc3") == 1);              // truncated at the end
  CHECK(utf8_find_invalid("\xc0\x80") == 0);           // overlong NUL
  CHECK(utf8_find_invalid("ok \xed\xa0\x80") == 3);    // a surrogate
  CHECK(utf8_find_invalid("\xf4\x90\x80\x80") == 0);   // above U+10FFFF
  CHECK(utf8_find_invalid("\xe0\x80\xaf") == 0);       // overlong '/'
  CHECK(utf8_find_invalid("x\x80") == 1);              // stray continuation byte
}

TEST_CASE("utf8_replace_invalid replaces maximal subparts, as Python's errors=\"replace\"") {
  struct Case {
    std::string in;
    std::vector<char32_t> want;
  };
  const Case cases[] = {
      {"a\xff" "b", {'a', 0xFFFD, 'b'}},
      {"\xc0\x80", {0xFFFD, 0xFFFD}},
      {"\xe2\x82", {0xFFFD}},  // one replacement for a truncated sequence
      {"\xe2\x82x", {0xFFFD, 'x'}},
      {"\xed\xa0\x80", {0xFFFD, 0xFFFD, 0xFFFD}},
      {"\xf4\x90\x80\x80", {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}},
      {"\xf0\x9f\x98", {0xFFFD}},
      {"\xf0\x9f\x98\x80", {0x1F600}},
      {"\x80\x80", {0xFFFD, 0xFFFD}},
      {"\xe0\x80\xaf", {0xFFFD, 0xFFFD, 0xFFFD}},
      {"caf\xc3\xa9\xc3", {'c', 'a', 'f', 0xE9, 0xFFFD}},
      {"\xf5" "abc", {0xFFFD, 'a', 'b', 'c'}},
      {"\xef\xbf\xbd", {0xFFFD}},  // a real U+FFFD is valid
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    std::string out;
    bool replaced = utf8_replace_invalid(c.in, out);
    CHECK(replaced == (utf8_find_invalid(c.in) != std::string_view::npos));
    CHECK(decode_all(out) == c.want);
    CHECK(utf8_find_invalid(out) == std::string_view::npos);
    CHECK(utf8_count(c.in) == c.want.size());
  }
}

TEST_CASE("utf8_append and utf8_next round-trip every length") {
  for (char32_t cp : {char32_t(0x24), char32_t(0xA2), char32_t(0x20AC), char32_t(0x10348), char32_t(0x10FFFF)}) {
    std::string s;
    utf8_append(s, cp);
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    Utf8Char c = utf8_next(p, p + s.size());
    CHECK(c.valid);
    CHECK(c.cp == cp);
    CHECK(c.size == s.size());
  }
  CHECK(utf8_count("h\xc3\xa9llo \xe4\xb8\xad") == 7);
}
