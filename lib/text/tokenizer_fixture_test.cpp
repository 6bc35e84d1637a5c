// Fixture parity: every text and pair of fixtures/reference/tokenize-bert-base-{uncased,cased}.json
// (the slow BertTokenizer of transformers 4.36.2), with the tokenizer loaded every way we support:
// a bare vocab.txt, a checkpoint's vocab.txt + tokenizer_config.json, and tokenizer.json files.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "test_support.hpp"  // shared_path, read_json
#include "text/tokenizer.hpp"

using bert::text::EncodeOptions;
using bert::text::Encoding;
using bert::text::Tokenizer;
using nlohmann::json;

namespace {

std::vector<std::string> tokens_of(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(tok.token(id));
  return out;
}

// "" when equal, else where and how the two sequences first differ.
template <class T>
std::string first_difference(const std::vector<T>& got, const std::vector<T>& want) {
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i < got.size() && i < want.size() && got[i] == want[i]) continue;
    auto show = [&](const std::vector<T>& v) {
      if (i >= v.size()) return std::string("<end>");
      if constexpr (std::is_same_v<T, std::string>)
        return "\"" + v[i] + "\"";
      else
        return std::to_string(v[i]);
    };
    return "first difference at position " + std::to_string(i) + ": got " + show(got) + ", want " + show(want) +
           " (lengths " + std::to_string(got.size()) + " and " + std::to_string(want.size()) + ")";
  }
  return "";
}

#define CHECK_SAME(got, want, what)              \
  do {                                           \
    std::string diff_ = first_difference(got, want); \
    INFO(what << ": " << diff_);                 \
    CHECK(diff_.empty());                        \
  } while (0)

void check_against_reference(const Tokenizer& tok, const json& ref) {
  const int max_length = ref["max_length_for_truncated_fields"].get<int>();
  EncodeOptions truncated;
  truncated.max_length = max_length;
  int checked = 0;
  for (const json& t : ref["texts"]) {
    const std::string text = t["text"].get<std::string>();
    INFO("text: " << text);
    CHECK_SAME(tok.basic_tokens(text), t["basic_tokens"].get<std::vector<std::string>>(), "basic_tokens");
    Encoding e = tok.encode(text);
    CHECK_SAME(tokens_of(tok, e.ids), t["tokens"].get<std::vector<std::string>>(), "tokens");
    CHECK_SAME(e.ids, t["input_ids"].get<std::vector<int32_t>>(), "input_ids");
    CHECK(e.num_tokens_untruncated == e.ids.size());
    CHECK(e.type_ids == std::vector<int32_t>(e.ids.size(), 0));
    Encoding et = tok.encode(text, truncated);
    CHECK_SAME(et.ids, t["input_ids_truncated"].get<std::vector<int32_t>>(), "input_ids_truncated");
    CHECK(et.num_tokens_untruncated == e.ids.size());
    CHECK(tok.decode(e.ids) == t["decoded"].get<std::string>());
    ++checked;
  }
  for (const json& p : ref["pairs"]) {
    const std::string a = p["text_a"].get<std::string>(), b = p["text_b"].get<std::string>();
    INFO("pair: " << a << " | " << b);
    Encoding e = tok.encode_pair(a, b);
    CHECK_SAME(tokens_of(tok, e.ids), p["tokens"].get<std::vector<std::string>>(), "pair tokens");
    CHECK_SAME(e.ids, p["input_ids"].get<std::vector<int32_t>>(), "pair input_ids");
    CHECK_SAME(e.type_ids, p["token_type_ids"].get<std::vector<int32_t>>(), "pair token_type_ids");
    Encoding et = tok.encode_pair(a, b, truncated);
    CHECK_SAME(et.ids, p["input_ids_truncated"].get<std::vector<int32_t>>(), "pair input_ids_truncated");
    CHECK_SAME(et.type_ids, p["token_type_ids_truncated"].get<std::vector<int32_t>>(),
               "pair token_type_ids_truncated");
    ++checked;
  }
  CHECK(checked == 45);
}

}  // namespace

TEST_CASE("uncased: every way of loading bert-base-uncased matches the reference") {
  const json ref = bert::test::read_json(bert::test::shared_path("fixtures/reference/tokenize-bert-base-uncased.json"));
  REQUIRE(ref["do_lower_case"].get<bool>());
  for (const char* where : {"vocab/bert-base-uncased.txt",             // bare vocab.txt: lower-casing inferred
                            "fixtures/tiny-uncased-mlm/vocab.txt",     // + tokenizer_config.json beside it
                            "fixtures/tiny-uncased-mlm",               // directory: tokenizer.json
                            "fixtures/tiny-uncased-mlm/tokenizer.json",
                            "fixtures/tiny-uncased-cls",
                            "vocab/bert-base-uncased-hf"}) {           // tokenizer.json, no vocab.txt
    SUBCASE(where) {
      Tokenizer tok = Tokenizer::from_path(bert::test::shared_path(where).string());
      CHECK(tok.config().lowercase);
      CHECK(tok.vocab().size() == 30522);
      CHECK(tok.cls_id() == 101);
      CHECK(tok.sep_id() == 102);
      CHECK(tok.pad_id() == 0);
      CHECK(tok.unk_id() == 100);
      CHECK(tok.mask_id() == 103);
      check_against_reference(tok, ref);
    }
  }
}

TEST_CASE("cased: every way of loading bert-base-cased matches the reference") {
  const json ref = bert::test::read_json(bert::test::shared_path("fixtures/reference/tokenize-bert-base-cased.json"));
  REQUIRE(!ref["do_lower_case"].get<bool>());
  for (const char* where : {"vocab/bert-base-cased.txt",  // bare vocab.txt: upper-case tokens, so cased
                            "fixtures/tiny-cased-base/vocab.txt", "fixtures/tiny-cased-base",
                            "fixtures/tiny-cased-base/tokenizer.json"}) {
    SUBCASE(where) {
      Tokenizer tok = Tokenizer::from_path(bert::test::shared_path(where).string());
      CHECK(!tok.config().lowercase);
      CHECK(tok.vocab().size() == 28996);
      CHECK(tok.token(tok.cls_id()) == "[CLS]");
      check_against_reference(tok, ref);
    }
  }
}

TEST_CASE("model_max_length comes from tokenizer_config.json") {
  CHECK(Tokenizer::from_path(bert::test::shared_path("fixtures/tiny-uncased-mlm").string()).config().model_max_length ==
        64);
  CHECK(Tokenizer::from_path(bert::test::shared_path("fixtures/tiny-cased-base/vocab.txt").string())
            .config()
            .model_max_length == 128);
  // bert-base-uncased-hf says 1e30, Hugging Face's "unset".
  CHECK(Tokenizer::from_path(bert::test::shared_path("vocab/bert-base-uncased-hf").string()).config().model_max_length ==
        0);
}
