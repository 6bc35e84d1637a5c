// WordPiece on a small vocabulary: greedy longest match, "##" pieces, [UNK] rules, UTF-8 boundaries.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "text/string_map.hpp"
#include "text/vocab.hpp"
#include "text/wordpiece.hpp"

using namespace bert::text;

namespace {

const Vocab& small_vocab() {
  static const Vocab v({"[UNK]", "un", "##aff", "##able", "una", "##ffa", "##ble", "a", "##b", "caf", "##\xc3\xa9",
                        "\xc3\xa9", "x", "##x", "abc", "##"});
  return v;
}

std::vector<std::string> pieces(std::string_view word, size_t chars, int max_chars = 100) {
  const Vocab& v = small_vocab();
  WordPiece wp(v, "##", max_chars, 0);
  std::vector<SubWord> out;
  wp.tokenize(v, word, chars, out);
  std::vector<std::string> s;
  for (const SubWord& p : out) {
    std::string t = v.token(p.id);
    if (p.id != 0) CHECK(std::string(word.substr(p.begin, p.end - p.begin)) == (p.begin ? t.substr(2) : t));
    s.push_back(t);
  }
  return s;
}

using S = std::vector<std::string>;

}  // namespace

TEST_CASE("greedy longest match first") {
  CHECK(pieces("unaffable", 9) == S{"una", "##ffa", "##ble"});  // not un ##aff ##able
  CHECK(pieces("abc", 3) == S{"abc"});
  CHECK(pieces("ab", 2) == S{"a", "##b"});
  CHECK(pieces("xxx", 3) == S{"x", "##x", "##x"});
}

TEST_CASE("a word with an uncoverable part, or too long, is one [UNK]") {
  CHECK(pieces("abz", 3) == S{"[UNK]"});
  CHECK(pieces("z", 1) == S{"[UNK]"});
  CHECK(pieces("xxxx", 4, 4) == S{"x", "##x", "##x", "##x"});
  CHECK(pieces("xxxxx", 5, 4) == S{"[UNK]"});  // more than max_input_chars_per_word code points
  CHECK(pieces("", 0).empty());
}

TEST_CASE("pieces end on code point boundaries") {
  CHECK(pieces("caf\xc3\xa9", 4) == S{"caf", "##\xc3\xa9"});
  CHECK(pieces("\xc3\xa9", 1) == S{"\xc3\xa9"});
  // "##" alone is a token, but a piece is never empty and never splits a character.
  CHECK(pieces("x\xc3\xa8", 2) == S{"[UNK]"});
}

TEST_CASE("StringIdMap: lookups by view, later inserts win, growth keeps everything") {
  StringIdMap m;
  CHECK(m.find("a") == -1);
  for (int i = 0; i < 1000; ++i) m.insert("k" + std::to_string(i), i);
  for (int i = 0; i < 1000; ++i) CHECK(m.find("k" + std::to_string(i)) == i);
  CHECK(m.find("k1000") == -1);
  CHECK(m.find("") == -1);
  m.insert("k5", 42);  // a duplicate token: the last id counts, as in HF's load_vocab
  CHECK(m.find("k5") == 42);
  CHECK(m.size() == 1000);
  CHECK(m.max_key_size() == 4);
  std::string big = "some longer key than eight bytes";
  m.insert(big, 7);
  CHECK(m.find(std::string_view(big)) == 7);
  CHECK(m.find(std::string_view(big).substr(0, 20)) == -1);
}
