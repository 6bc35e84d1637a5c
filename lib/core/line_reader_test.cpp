// LineReader: lines split on '\n', a last line without one, and lines longer than the bound cut at a
// character boundary with the rest skipped, the following lines intact and correctly numbered.
#include "core/line_reader.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct ReadLines {
  std::vector<std::string> lines;
  std::vector<uint64_t> numbers;
  std::vector<bool> cut;
};

ReadLines read_all(const std::string& content, size_t max_line_bytes, size_t max_lines = 1024) {
  const auto path = std::filesystem::temp_directory_path() / ("line_reader_test_" + std::to_string(::getpid()));
  { std::ofstream(path, std::ios::binary) << content; }
  bert::LineReader reader({path.string()}, max_line_bytes);
  bert::LineBatch batch;
  ReadLines r;
  while (reader.next_batch(batch, max_lines)) {
    for (size_t i = 0; i < batch.size(); ++i) {
      r.lines.emplace_back(batch.line(i));
      r.numbers.push_back(batch.line_number(i));
      r.cut.push_back(batch.was_cut(i));
    }
  }
  std::filesystem::remove(path);
  CHECK(reader.cut_lines() == uint64_t(std::count(r.cut.begin(), r.cut.end(), true)));
  return r;
}

}  // namespace

TEST_CASE("lines, and a last line without a newline") {
  auto r = read_all("one\ntwo\r\n\nlast", 1 << 20);
  CHECK(r.lines == std::vector<std::string>{"one", "two\r", "", "last"});
  CHECK(r.numbers == std::vector<uint64_t>{1, 2, 3, 4});
}

TEST_CASE("a line longer than the bound is cut there; the next lines are intact") {
  const std::string longer(300000, 'x');  // spans several reads
  auto r = read_all("short\n" + longer + "\nafter\n" + std::string(64, 'y') + "\n", 64);
  REQUIRE(r.lines.size() == 4);
  CHECK(r.lines[0] == "short");
  CHECK(r.lines[1] == std::string(64, 'x'));
  CHECK(r.cut == std::vector<bool>{false, true, false, false});
  CHECK(r.lines[2] == "after");
  CHECK(r.lines[3] == std::string(64, 'y'));  // exactly the bound: not cut
  CHECK(r.numbers == std::vector<uint64_t>{1, 2, 3, 4});
}

TEST_CASE("the cut falls on a UTF-8 character boundary") {
  // 63 ASCII bytes then "é" (2 bytes): byte 64 is the middle of the character, so 63 bytes are kept.
  auto r = read_all(std::string(63, 'a') + "\xC3\xA9" + "zzz\nnext\n", 64);
  REQUIRE(r.lines.size() == 2);
  CHECK(r.lines[0] == std::string(63, 'a'));
  CHECK(r.lines[1] == "next");
}

TEST_CASE("an endless last line without a newline is cut, and nothing of it is kept") {
  auto r = read_all(std::string(200000, 'z'), 100, 1);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0] == std::string(100, 'z'));
  CHECK(r.cut[0]);
}
