// Small inputs never cost gigabytes: memory follows what the model can use, not what the input
// claims or how long a line is (issue 17). Each case compares the peak RSS of the hostile input
// with that of a harmless one, so the bound holds in the sanitizer build too.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.hpp"

using bert::test::run_bertctl;
using bert::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kVocab = std::string(BERTCTL_SOURCE_DIR) + "/vocab/example-vocab.txt";

std::string repeat_words(size_t bytes) {
  std::string s;
  while (s.size() < bytes) s += "hello world ";
  return s;
}

// Big inputs go through a file: the test's own copy in memory would count in the child's peak RSS
// (a forked child's resident pages include its parent's until exec).
fs::path write_file(const TempDir& tmp, const std::string& name, const std::string& content) {
  const fs::path p = tmp / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

}  // namespace

TEST_CASE("a line longer than --max-line-bytes is cut with a warning, and memory stays put") {
  TempDir tmp;
  const std::string bound = "1000000";
  const fs::path small = write_file(tmp, "small.txt", repeat_words(1000000) + "\nsecond line\n");
  const fs::path huge = write_file(tmp, "huge.txt", repeat_words(30000000) + "\nsecond line\n");
  for (const std::string& cmd : {"tokenize"}) {
    auto base = run_bertctl({cmd, "--vocab", kVocab, "--max-line-bytes", bound, small.string()});
    auto cut = run_bertctl({cmd, "--vocab", kVocab, "--max-line-bytes", bound, huge.string()});
    INFO("stderr: " << cut.err);
    REQUIRE(cut.exit_code == 0);
    CHECK(cut.err.find("1 line(s) longer than --max-line-bytes (1000000 bytes) were cut to that length "
                       "(the first: " + huge.string() + ":1)") != std::string::npos);
    CHECK(std::count(cut.out.begin(), cut.out.end(), '\n') == 2);
    CHECK(cut.out.substr(cut.out.rfind('\n', cut.out.size() - 2) + 1).find("[CLS] s ##e ##c") == 0);
    // 29 MB of input beyond the bound add nothing (with the bound lifted: 1.1 GB; classify 0.67 GB).
    MESSAGE(cmd << " peak RSS: " << base.peak_rss_mb << " MB (1 MB line), " << cut.peak_rss_mb << " MB (30 MB line)");
    CHECK(cut.peak_rss_mb < base.peak_rss_mb + 32);
  }
}

TEST_CASE("classify reads a 30 MB line in the memory of a 1 MB one") {
  TempDir tmp;
  const fs::path model = tmp / "m.gguf";
  REQUIRE(run_bertctl({"init", "--layers", "1", "--hidden", "32", "--heads", "2", "--intermediate", "64",
                       "--max-position", "64", "--vocab", kVocab, "--labels", "a,b", "-o", model.string()})
              .exit_code == 0);
  const fs::path small = write_file(tmp, "small.txt", repeat_words(1000000) + "\nsecond\n");
  const fs::path huge = write_file(tmp, "huge.txt", repeat_words(30000000) + "\nsecond\n");
  auto base = run_bertctl({"classify", "-m", model.string(), "--max-line-bytes", "1000000", small.string()});
  auto cut = run_bertctl({"classify", "-m", model.string(), "--max-line-bytes", "1000000", huge.string()});
  INFO("stderr: " << cut.err);
  REQUIRE(cut.exit_code == 0);
  CHECK(std::count(cut.out.begin(), cut.out.end(), '\n') == 2);
  CHECK(cut.err.find("were cut to that length") != std::string::npos);
  MESSAGE("classify peak RSS: " << base.peak_rss_mb << " MB (1 MB line), " << cut.peak_rss_mb << " MB (30 MB line)");
  CHECK(cut.peak_rss_mb < base.peak_rss_mb + 32);
}

TEST_CASE("a JSONL or CSV record longer than --max-line-bytes is refused, not misread") {
  const std::string record = "{\"text\": \"" + repeat_words(200000) + "\"}\n";
  auto r = run_bertctl({"tokenize", "--vocab", kVocab, "--input-format", "jsonl", "--max-line-bytes", "100000"},
                       "{\"text\": \"first\"}\n" + record);
  CHECK(r.exit_code == 1);
  CHECK(r.err == "bertctl: tokenize: <stdin>:2: the line is longer than --max-line-bytes (100000 bytes); raise it "
                 "to read this record\n");
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);  // the line before it is still printed
}
