// Character properties, the normalizer and the pre-tokenizer on the edge cases of the reference
// (BertTokenizer on Python 3.11, Unicode 14.0). Expected words were worked out from the reference
// code and checked against Python's unicodedata.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <utf8proc.h>  // utf8proc_unicode_version

#include "text/normalizer.hpp"
#include "text/pre_tokenizer.hpp"
#include "text/unicode.hpp"

using namespace bert::text;
using Strings = std::vector<std::string>;

namespace {

Strings words(std::string_view text, bool lowercase,
              std::vector<PreTokenizer::Token> added = {{"[MASK]", 103}, {"[CLS]", 101}}) {
  NormalizerOptions o;
  o.lowercase = lowercase;
  o.strip_accents = lowercase;
  PreTokenizer pre(o, std::move(added), {});
  Words w;
  pre.split(text, w);
  Strings out;
  for (const Word& x : w.words) out.emplace_back(w.word(x));
  return out;
}

std::u32string normalized(std::string_view text, NormalizerOptions o) {
  std::vector<NormChar> out, tmp;
  normalize(text, 0, o, out, tmp);
  std::u32string s;
  for (const NormChar& c : out) s.push_back(c.cp);
  return s;
}

}  // namespace

TEST_CASE("the Unicode tables are the ones the exclusion list was made for") {
  // kAssignedAfter14 in unicode.cpp lists what utf8proc's Unicode 15.0 adds to Python's 14.0.
  // A newer utf8proc assigns more code points: extend that table, then this check.
  CHECK(std::string(utf8proc_unicode_version()) == "15.0.0");
}

TEST_CASE("character classes follow BertTokenizer") {
  CHECK(unicode::is_punctuation(U'$'));   // ASCII symbols count, though category Sc
  CHECK(unicode::is_punctuation(U'`'));
  CHECK(unicode::is_punctuation(U'\u2014'));  // em dash, Pd
  CHECK(unicode::is_punctuation(U'\u00bf'));  // ¿, Po
  CHECK(!unicode::is_punctuation(U'\u20ac'));  // €, Sc outside ASCII: part of words
  CHECK(!unicode::is_punctuation(U'a'));
  CHECK(unicode::is_control(U'\u200b'));    // Cf
  CHECK(unicode::is_control(U'\ue000'));    // Co
  CHECK(unicode::is_control(U'\x7f'));
  CHECK(!unicode::is_control(U'\t'));
  CHECK(unicode::is_control(char32_t(0x11F00)));  // Kawi: Unicode 15.0, unassigned for the reference
  CHECK(unicode::is_control(char32_t(0x2B739)));  // in a CJK range, but not yet assigned in 14.0
  CHECK(!unicode::is_control(char32_t(0x2B738)));
  CHECK(unicode::is_whitespace(U'\u3000'));
  CHECK(unicode::is_whitespace(U'\u00a0'));
  CHECK(!unicode::is_whitespace(U'\u2028'));  // Zl: not cleaned, but str.split() splits on it
  CHECK(unicode::is_line_separator(U'\u2028'));
  CHECK(unicode::is_cjk(U'\u4e2d'));
  CHECK(unicode::is_cjk(U'\uf900'));
  CHECK(!unicode::is_cjk(U'\u3042'));  // Hiragana is not
  CHECK(!unicode::is_cjk(U'\uac00'));  // nor Hangul
  char32_t low[2];
  CHECK(unicode::to_lower(U'\u0130', low) == 2);  // İ -> i + combining dot above
  CHECK(low[0] == U'i');
  CHECK(low[1] == U'\u0307');
  CHECK(unicode::to_lower(U'\u03a3', low) == 1);  // Σ -> σ always: no final-sigma rule
  CHECK(low[0] == U'\u03c3');
}

TEST_CASE("NFC boundaries: where normalization may be done piece by piece") {
  CHECK(unicode::nfc_boundary_before(U'a'));
  CHECK(unicode::nfc_boundary_before(U'\u00e9'));
  CHECK(!unicode::nfc_boundary_before(U'\u0301'));  // combining acute
  CHECK(!unicode::nfc_boundary_before(U'\u1161'));  // Hangul vowel: joins a leading consonant
  CHECK(!unicode::nfc_boundary_before(U'\u11a8'));  // Hangul trailing consonant
  CHECK(!unicode::nfc_boundary_before(U'\u0b3e'));  // Oriya AA: second half of U+0B4B
  CHECK(!unicode::nfc_boundary_before(U'\u0f73'));  // decomposes to a non-starter first
  CHECK(unicode::nfc_boundary_before(U'\uac00'));
}

TEST_CASE("normalize: cleaning, CJK spacing, NFD and accent stripping") {
  NormalizerOptions uncased;
  CHECK(normalized("Ünïcödé", uncased) == U"unicode");
  CHECK(normalized("a\tb\u3000c", uncased) == U"a b c");
  CHECK(normalized("x\x07y\xe2\x80\x8bz\xef\xbf\xbd", uncased) == U"xyz");  // BEL, ZWSP, U+FFFD dropped
  CHECK(normalized("\xe4\xb8\xad\xe6\x96\x87", uncased) == U" 中  文 ");
  CHECK(normalized("\xc4\xb0", uncased) == U"i");        // İ -> i + U+0307 -> i
  CHECK(normalized("\xea\xb0\x80", uncased) == U"\u1100\u1161");  // 가 -> jamo (NFD)
  NormalizerOptions cased;
  cased.lowercase = false;
  cased.strip_accents = false;
  CHECK(normalized("e\xcc\x81", cased) == U"\u00e9");    // NFC composes
  CHECK(normalized("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8", cased) == U"\uac01");  // L V T -> 각
  CHECK(normalized("<\xcc\xb8", cased) == U"\u226e");    // < + U+0338 -> ≮ (no longer punctuation)
  CHECK(normalized("\xef\xa4\x80", cased) == U" \u8c48 ");  // compatibility ideograph -> unified
  CHECK(normalized("a\xcc\x81\xcc\x96", cased) == U"\u00e1\u0316");  // canonical reordering, then compose
  NormalizerOptions lower_keep_accents;  // do_lower_case=True, strip_accents=False
  lower_keep_accents.strip_accents = false;
  CHECK(normalized("\xc3\x89t\xc3\xa9", lower_keep_accents) == U"\u00e9t\u00e9");
  CHECK(normalized("\xc4\xb0", lower_keep_accents) == U"i\u0307");
}

TEST_CASE("normalize keeps the source bytes of every character") {
  std::vector<NormChar> out, tmp;
  NormalizerOptions cased;
  cased.lowercase = cased.strip_accents = false;
  normalize("ae\xcc\x81z", 10, cased, out, tmp);  // a, e + U+0301 -> é, z
  REQUIRE(out.size() == 3);
  CHECK(out[0].begin == 10);
  CHECK(out[0].end == 11);
  CHECK(out[1].cp == U'\u00e9');
  CHECK(out[1].begin == 11);
  CHECK(out[1].end == 14);
  CHECK(out[2].begin == 14);
}

TEST_CASE("pre-tokenizer: whitespace, punctuation and special tokens") {
  CHECK(words("Hello, world!", true) == Strings{"hello", ",", "world", "!"});
  CHECK(words("Hello, world!", false) == Strings{"Hello", ",", "world", "!"});
  CHECK(words("   ", true).empty());
  CHECK(words("", true).empty());
  CHECK(words("don't", true) == Strings{"don", "'", "t"});
  CHECK(words("a\r\nb", true) == Strings{"a", "b"});
  CHECK(words("x\xe2\x80\xa8y", true) == Strings{"x", "y"});  // U+2028 splits (str.split)
  CHECK(words("\xe2\x80\x9cQuoted\xe2\x80\x9d \xe2\x80\x94 yes", true) ==
        Strings{"\xe2\x80\x9c", "quoted", "\xe2\x80\x9d", "\xe2\x80\x94", "yes"});
  CHECK(words("\xe2\x82\xac" "50", true) == Strings{"\xe2\x82\xac" "50"});  // € stays in the word
  // Special tokens: anywhere, case-sensitive, never lower-cased.
  CHECK(words("The [MASK].", true) == Strings{"the", "[MASK]", "."});
  CHECK(words("x[MASK]y", true) == Strings{"x", "[MASK]", "y"});
  CHECK(words("[mask]", true) == Strings{"[", "mask", "]"});
  CHECK(words("[CLS][MASK]", false) == Strings{"[CLS]", "[MASK]"});
  // A word that becomes a special token once cleaned is kept whole (BasicTokenizer never_split)...
  CHECK(words("[MA\x01SK]", false) == Strings{"[MASK]"});
  // ...but not in an uncased model, where it was lower-cased first.
  CHECK(words("[MA\x01SK]", true) == Strings{"[", "mask", "]"});
  // An added token without upper case also matches upper-case text in a lower-casing model.
  CHECK(words("<E1>x", true, {{"<e1>", 5}}) == Strings{"<e1>", "x"});
  CHECK(words("<E1>x", false, {{"<e1>", 5}}) == Strings{"<", "E1", ">", "x"});
  // Longest added token first.
  CHECK(words("<a><ab>", false, {{"<a", 1}, {"<ab>", 2}}) == Strings{"<a", ">", "<ab>"});
}

TEST_CASE("pre-tokenizer: text that needs the Unicode path") {
  CHECK(words("caf\xc3\xa9, cr\xc3\xa8me", true) == Strings{"cafe", ",", "creme"});
  CHECK(words("caf\xc3\xa9, cr\xc3\xa8me", false) == Strings{"caf\xc3\xa9", ",", "cr\xc3\xa8me"});
  CHECK(words("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa8" "English", true) ==
        Strings{"\xe6\x97\xa5", "\xe6\x9c\xac", "\xe8\xaa\x9e", "\xe3\x81\xa8" "english"});
  CHECK(words("Control\x07" "chars", true) == Strings{"controlchars"});
  CHECK(words("\xef\xbb\xbfHello", false) == Strings{"Hello"});  // a BOM is Cf: dropped
  CHECK(words("<\xcc\xb8 x", false) == Strings{"\xe2\x89\xae", "x"});  // ≮ is a symbol, not punctuation
  CHECK(words("<\xcc\xb8 x", true) == Strings{"<", "x"});  // uncased: NFD, mark stripped, '<' split off
  CHECK(words("\xce\xa3\xce\x97\xce\xa3", true) == Strings{"\xcf\x83\xce\xb7\xcf\x83"});  // ΣΗΣ -> σησ (no ς)
}
