// Tokenizer on a small vocabulary: special tokens, pairs, truncation, padding, offsets, decode, and
// loading Hugging Face files (written to a temporary directory here).
#include <doctest/doctest.h>

#include <unistd.h>  // getpid

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "text/tokenizer.hpp"

using namespace bert::text;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTokens = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "how", "old", "are", "you", "?",
    "i",     "am",    "six",   ".",     "un",     "##aff", "##able", "caf", "##e", "\xe4\xb8\xad", "a", "b",
    "c",     "d",     "e",     "f",     "Hello",  "##s",   "'", "t", "don", "##\xc3\xa9"};
// ids:   0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP] 4 [MASK] 5 hello 6 , 7 world 8 ! ... 24 a 25 b 26 c 27 d 28 e 29 f

Tokenizer small(bool lowercase = true) {
  TokenizerConfig c;
  c.lowercase = lowercase;
  return Tokenizer(Vocab(kTokens), c);
}

std::vector<std::string> tokens(const Tokenizer& t, const Encoding& e) {
  std::vector<std::string> out;
  for (int32_t id : e.ids) out.push_back(t.token(id));
  return out;
}

using S = std::vector<std::string>;
using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("bertctl-tok-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return (path / name).string();
  }
  static inline int counter = 0;
};

std::string vocab_txt(const std::vector<std::string>& tokens, const char* eol = "\n") {
  std::string s;
  for (const auto& t : tokens) s += t + eol;
  return s;
}

// The kind and message of the bert::Error that f throws.
std::pair<bert::ErrorKind, std::string> error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const bert::Error& e) {
    return {e.kind(), e.what()};
  }
  FAIL("no bert::Error thrown");
  return {bert::ErrorKind::ERROR_INTERNAL, ""};
}
bert::ErrorKind error_kind(const std::function<void()>& f) { return error_of(f).first; }
bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("encode: special tokens, ids, masks") {
  Tokenizer t = small();
  Encoding e = t.encode("Hello, world!");
  CHECK(tokens(t, e) == S{"[CLS]", "hello", ",", "world", "!", "[SEP]"});
  CHECK(e.ids == std::vector<int32_t>{2, 5, 6, 7, 8, 3});
  CHECK(e.type_ids == std::vector<int32_t>(6, 0));
  CHECK(e.attention_mask == std::vector<uint8_t>(6, 1));
  CHECK(e.num_tokens_untruncated == 6);
  CHECK(tokens(t, t.encode("")) == S{"[CLS]", "[SEP]"});
  EncodeOptions bare;
  bare.add_special_tokens = false;
  CHECK(t.encode("", bare).ids.empty());
  CHECK(tokens(t, t.encode("unaffable zz", bare)) == S{"un", "##aff", "##able", "[UNK]"});
  CHECK(tokens(t, t.encode("hello [MASK]!")) == S{"[CLS]", "hello", "[MASK]", "!", "[SEP]"});
  CHECK(t.cls_id() == 2);
  CHECK(t.mask_id() == 4);
  CHECK(t.is_special(4));
  CHECK(!t.is_special(5));
}

TEST_CASE("encode without lower-casing keeps case") {
  Tokenizer t = small(false);
  CHECK(tokens(t, t.encode("Hello hello HELLO")) == S{"[CLS]", "Hello", "hello", "[UNK]", "[SEP]"});
}

TEST_CASE("pairs: type ids, and none without special tokens (as HF's prepare_for_model)") {
  Tokenizer t = small();
  Encoding e = t.encode_pair("How old are you?", "I am six.");
  CHECK(tokens(t, e) == S{"[CLS]", "how", "old", "are", "you", "?", "[SEP]", "i", "am", "six", ".", "[SEP]"});
  CHECK(e.type_ids == std::vector<int32_t>{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1});
  CHECK(tokens(t, t.encode_pair("", "")) == S{"[CLS]", "[SEP]", "[SEP]"});
  EncodeOptions bare;
  bare.add_special_tokens = false;
  Encoding b = t.encode_pair("hello", "world", bare);
  CHECK(b.ids == std::vector<int32_t>{5, 7});
  CHECK(b.type_ids == std::vector<int32_t>{0, 0});
}

TEST_CASE("truncation: single texts keep the front, specials count") {
  Tokenizer t = small();
  EncodeOptions o;
  o.max_length = 4;
  Encoding e = t.encode("a b c d e f", o);
  CHECK(tokens(t, e) == S{"[CLS]", "a", "b", "[SEP]"});
  CHECK(e.num_tokens_untruncated == 8);
  o.max_length = 2;
  CHECK(tokens(t, t.encode("a b", o)) == S{"[CLS]", "[SEP]"});
  o.max_length = 1;
  CHECK(error_kind([&] { t.encode("a b", o); }) == bert::ErrorKind::ERROR_USAGE);
  o.max_length = 100;
  CHECK(t.encode("a b", o).ids.size() == 4);  // no padding unless asked
}

TEST_CASE("truncation: pairs, longest first, the second segment loses the odd token") {
  Tokenizer t = small();
  EncodeOptions o;
  auto lengths = [&](const std::string& a, const std::string& b, int max_length) {
    o.max_length = max_length;
    Encoding e = t.encode_pair(a, b, o);
    size_t na = 0;
    while (e.ids[na + 1] != t.sep_id()) ++na;
    return std::pair<size_t, size_t>{na, e.ids.size() - na - 3};
  };
  // 6 and 2 tokens: only the longer is cut.
  CHECK(lengths("a b c d e f", "a b", 9) == std::pair<size_t, size_t>{4, 2});
  // 4 and 4, budget 7 (remove 1): from the second.
  CHECK(lengths("a b c d", "a b c d", 10) == std::pair<size_t, size_t>{4, 3});
  // 4 and 4, remove 3: one from the first, two from the second.
  CHECK(lengths("a b c d", "a b c d", 8) == std::pair<size_t, size_t>{3, 2});
  // 6 and 3, remove 5: 3 to even them, then 1 and 1.
  CHECK(lengths("a b c d e f", "a b c", 7) == std::pair<size_t, size_t>{2, 2});
  // 2 and 5, remove 4: 3 to even them, then 0 and 1.
  CHECK(lengths("a b", "a b c d e", 6) == std::pair<size_t, size_t>{2, 1});
  o.max_length = 3;
  CHECK(tokens(t, t.encode_pair("a b", "c d", o)) == S{"[CLS]", "[SEP]", "[SEP]"});
  Encoding e = t.encode_pair("a b", "c d", o);
  CHECK(e.type_ids == std::vector<int32_t>{0, 0, 1});
}

TEST_CASE("padding to max_length") {
  Tokenizer t = small();
  EncodeOptions o;
  o.max_length = 6;
  o.pad_to_max_length = true;
  Encoding e = t.encode_pair("a", "b", o);
  CHECK(tokens(t, e) == S{"[CLS]", "a", "[SEP]", "b", "[SEP]", "[PAD]"});
  CHECK(e.attention_mask == std::vector<uint8_t>{1, 1, 1, 1, 1, 0});
  CHECK(e.type_ids == std::vector<int32_t>{0, 0, 0, 1, 1, 0});
  CHECK(e.offsets.back() == std::pair<uint32_t, uint32_t>{0, 0});
}

TEST_CASE("offsets in characters or bytes, into the original text") {
  Tokenizer t = small();
  Encoding e = t.encode("Hello, world!");
  CHECK(e.offsets == Offsets{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {0, 0}});
  // "café" (é precomposed, 2 bytes), CJK, and "unaffable" in pieces.
  std::string text = "  Caf\xc3\xa9 \xe4\xb8\xad unaffable";
  Encoding c = t.encode(text);
  CHECK(tokens(t, c) == S{"[CLS]", "caf", "##e", "\xe4\xb8\xad", "un", "##aff", "##able", "[SEP]"});
  CHECK(c.offsets == Offsets{{0, 0}, {2, 5}, {5, 6}, {7, 8}, {9, 11}, {11, 14}, {14, 18}, {0, 0}});
  EncodeOptions bytes;
  bytes.offset_unit = OffsetUnit::OFFSET_BYTES;
  Encoding b = t.encode(text, bytes);
  CHECK(b.offsets == Offsets{{0, 0}, {2, 5}, {5, 7}, {8, 11}, {12, 14}, {14, 17}, {17, 21}, {0, 0}});
  // A stripped accent is not part of any token (as in the Rust tokenizer); without stripping, NFC
  // makes e + U+0301 one character that covers both.
  Encoding d = t.encode("cafe\xcc\x81", bytes);
  CHECK(tokens(t, d) == S{"[CLS]", "caf", "##e", "[SEP]"});
  CHECK(d.offsets == Offsets{{0, 0}, {0, 3}, {3, 4}, {0, 0}});
  Encoding n = small(false).encode("cafe\xcc\x81", bytes);
  CHECK(tokens(t, n) == S{"[CLS]", "caf", "##\xc3\xa9", "[SEP]"});
  CHECK(n.offsets == Offsets{{0, 0}, {0, 3}, {3, 6}, {0, 0}});
  // Pairs: offsets into each segment's own text.
  Encoding p = t.encode_pair("hello", "  world");
  CHECK(p.offsets == Offsets{{0, 0}, {0, 5}, {0, 0}, {2, 7}, {0, 0}});
  // [UNK] covers its whole word; special tokens found in the text keep their place.
  Encoding u = t.encode("x [MASK] zz");
  CHECK(u.offsets == Offsets{{0, 0}, {0, 1}, {2, 8}, {9, 11}, {0, 0}});
}

TEST_CASE("decode joins pieces and cleans up spaces like HF") {
  Tokenizer t = small();
  CHECK(t.decode(t.encode("Hello, world!").ids) == "hello, world!");
  CHECK(t.decode(t.encode("don't unaffable").ids) == "don't unaffable");
  CHECK(t.decode(t.encode("hello [MASK].").ids) == "hello.");
  CHECK(t.decode(t.encode("hello [MASK].").ids, false) == "[CLS] hello [MASK]. [SEP]");
  CHECK_THROWS_AS(t.decode({999}), bert::Error);
}

TEST_CASE("one tokenizer, many threads") {
  Tokenizer t = small();
  std::vector<std::string> texts = {"Hello, world!", "caf\xc3\xa9 unaffable", "how old are you?", ""};
  std::vector<std::vector<int32_t>> want;
  for (const auto& s : texts) want.push_back(t.encode(s).ids);
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int r = 0; r < 2000; ++r)
        for (size_t i = 0; i < texts.size(); ++i) bad[k] += t.encode(texts[i]).ids != want[i];
    });
  for (auto& th : threads) th.join();
  CHECK(bad == std::vector<int>(4, 0));
}

TEST_CASE("vocab.txt: CRLF lines, duplicates, invalid UTF-8, required tokens") {
  TempDir dir;
  Vocab v = Vocab::from_vocab_txt(dir.write("crlf.txt", "[PAD]\r\n[UNK]\r\nx\rx\ny"));
  CHECK(v.size() == 5);
  CHECK(v.token(2) == "x");
  CHECK(v.id_of("x") == 3);  // a duplicate maps to its last line, as HF's dict
  CHECK(v.token(4) == "y");
  std::string bad = dir.write("bad.txt", "[PAD]\nok\nb\xffx\n");
  CHECK(error_kind([&] { Vocab::from_vocab_txt(bad); }) == bert::ErrorKind::ERROR_MODEL);
  CHECK(error_kind([&] { Vocab::from_vocab_txt((dir.path / "missing.txt").string()); }) ==
        bert::ErrorKind::ERROR_IO);
  CHECK(error_kind([&] { Tokenizer(Vocab({"[PAD]", "[CLS]", "[SEP]"}), TokenizerConfig{}); }) ==
        bert::ErrorKind::ERROR_MODEL);  // no [UNK]
}

TEST_CASE("vocab.txt alone: lower-casing inferred from the vocabulary") {
  TempDir dir;
  std::string lower = dir.write("lower.txt", vocab_txt({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "\xe2\x84\x9d"}));
  CHECK(Tokenizer::from_path(lower).config().lowercase);  // ℝ is upper case with no lower case
  std::string cased = dir.write("cased.txt", vocab_txt({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "Hello"}));
  CHECK(!Tokenizer::from_path(cased).config().lowercase);
}

TEST_CASE("checkpoint files: tokenizer_config.json, special_tokens_map.json, added tokens") {
  TempDir dir;
  dir.write("vocab.txt", vocab_txt({"<pad>", "<unk>", "<s>", "</s>", "hello", "world", "Big"}));
  dir.write("tokenizer_config.json", R"({"do_lower_case": false, "model_max_length": 512, "strip_accents": null,
      "never_split": ["don't"], "unk_token": {"content": "<unk>", "__type": "AddedToken"}, "pad_token": "<pad>",
      "added_tokens_decoder": {"7": {"content": "<ent>", "special": true}}})");
  dir.write("special_tokens_map.json", R"({"cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>"})");
  Tokenizer t = Tokenizer::from_path(dir.path.string());
  CHECK(!t.config().lowercase);
  CHECK(t.config().model_max_length == 512);
  CHECK(t.token(t.cls_id()) == "<s>");
  CHECK(t.token(t.unk_id()) == "<unk>");
  CHECK(!t.mask_id());  // not in the vocabulary
  CHECK(t.vocab().size() == 8);
  CHECK(t.vocab().id_of("<ent>") == 7);
  Encoding e = t.encode("Big hello<ent>world don't");
  CHECK(tokens(t, e) == S{"<s>", "Big", "hello", "<ent>", "world", "<unk>", "</s>"});
  CHECK(t.is_special(7));
}

TEST_CASE("tokenizer.json: WordPiece model, BertNormalizer flags, errors") {
  TempDir dir;
  std::string good = dir.write("tokenizer.json", R"({
    "added_tokens": [{"id": 0, "content": "[PAD]", "special": true}, {"id": 6, "content": "<x>", "special": true}],
    "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                   "strip_accents": false, "lowercase": true},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 5, "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
              "caf\u00e9": 4, "abcdef": 5}}})");
  Tokenizer t = Tokenizer::from_path(good);
  CHECK(t.config().lowercase);
  CHECK(t.config().strip_accents == false);
  CHECK(t.config().max_input_chars_per_word == 5);
  CHECK(t.vocab().size() == 7);
  CHECK(tokens(t, t.encode("CAF\xc3\x89<x> abcdef")) == S{"[CLS]", "caf\xc3\xa9", "<x>", "[UNK]", "[SEP]"});

  // Model errors that say what is wrong with which file.
  auto model_error = [&](const std::string& json, const std::string& part) {
    std::string p = dir.write("t.json", json);
    auto [kind, message] = error_of([&] { Tokenizer::from_path(p); });
    CAPTURE(message);
    CHECK(kind == bert::ErrorKind::ERROR_MODEL);
    CHECK(has(message, "t.json"));
    CHECK(has(message, part));
  };
  model_error("{not json", "invalid JSON");
  model_error(R"({"model": {"type": "BPE", "vocab": {}}})", "\"BPE\" is not supported");
  model_error(R"({"normalizer": {"type": "NFKC"}, "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})",
              "\"NFKC\" is not supported");
  model_error(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "x": 2}}})", "without gaps");
  model_error(R"({"normalizer": {"type": "BertNormalizer", "lowercase": "yes"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})", "\"lowercase\" must be true or false");
  model_error(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[PAD]": 1}}})", "no classifier token");
  CHECK(error_kind([&] { Tokenizer::from_path((dir.path / "nothing-here").string()); }) ==
        bert::ErrorKind::ERROR_IO);
  fs::create_directories(dir.path / "empty");
  CHECK(error_kind([&] { Tokenizer::from_path((dir.path / "empty").string()); }) == bert::ErrorKind::ERROR_MODEL);
}
