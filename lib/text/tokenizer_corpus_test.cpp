// Corpus parity: every line of fixtures/reference/corpus-bert-base-{uncased,cased}.jsonl (11,727 real
// lines in 84 languages and scripts plus English prose, tokenized by the slow BertTokenizer) gives
// exactly the reference ids. The text is read from ../shared/corpus/<file>, split on '\n' only.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/file.hpp"  // read_file
#include "test_support.hpp"
#include "text/tokenizer.hpp"

using bert::text::Tokenizer;
using bert::text::TokenizerConfig;
using bert::text::Vocab;

namespace {

// Lines of a file split on '\n' only; line k (1-based) is lines[k - 1].
const std::vector<std::string>& corpus_lines(const std::string& file) {
  static std::map<std::string, std::vector<std::string>> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  std::string data = bert::read_file(bert::test::shared_path("corpus/" + file).string());
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(data.substr(start, nl - start));
  lines.push_back(data.substr(start));
  return cache[file] = std::move(lines);
}

std::string show(const Tokenizer& tok, const std::vector<int32_t>& ids, size_t at) {
  if (at >= ids.size()) return "<end>";
  return std::to_string(ids[at]) + " \"" + tok.token(ids[at]) + "\"";
}

void check_corpus(const Tokenizer& tok, const std::string& reference) {
  std::ifstream in(bert::test::shared_path(reference));
  REQUIRE(in);
  size_t lines = 0, mismatches = 0;
  std::string record;
  while (std::getline(in, record)) {
    nlohmann::json r = nlohmann::json::parse(record);
    const std::string file = r["file"].get<std::string>();
    const size_t line = r["line"].get<size_t>();
    const auto want = r["ids"].get<std::vector<int32_t>>();
    const auto& text = corpus_lines(file);
    REQUIRE(line >= 1);
    REQUIRE(line <= text.size());
    const auto got = tok.encode(text[line - 1]).ids;
    ++lines;
    if (got == want) continue;
    size_t at = 0;
    while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
    if (++mismatches <= 20)
      std::fprintf(stderr, "%s: %s:%zu: token %zu: got %s, want %s (%zu vs %zu tokens)\n", reference.c_str(),
                   file.c_str(), line, at, show(tok, got, at).c_str(), show(tok, want, at).c_str(), got.size(),
                   want.size());
  }
  INFO(reference << ": " << mismatches << " of " << lines << " lines differ");
  CHECK(lines == 11727);
  CHECK(mismatches == 0);
}

Tokenizer from_vocab(const std::string& vocab, bool lowercase) {
  TokenizerConfig config;
  config.lowercase = lowercase;
  return Tokenizer(Vocab::from_vocab_txt(bert::test::shared_path(vocab).string()), config);
}

}  // namespace

TEST_CASE("corpus: bert-base-uncased gives the reference ids on every line") {
  check_corpus(from_vocab("vocab/bert-base-uncased.txt", true), "fixtures/reference/corpus-bert-base-uncased.jsonl");
}

TEST_CASE("corpus: bert-base-cased gives the reference ids on every line") {
  check_corpus(from_vocab("vocab/bert-base-cased.txt", false), "fixtures/reference/corpus-bert-base-cased.jsonl");
}
