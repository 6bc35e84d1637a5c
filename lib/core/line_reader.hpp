// LineReader: the records of a Unix filter. Reads the given files in order ("-" or no file at all
// means standard input), splits on '\n' only (a '\r' stays in the text; the tokenizer treats it as
// whitespace), and hands out batches of whole lines without waiting for more input than one read
// returns, so interactive pipes get answers line by line. A line longer than max_line_bytes is cut
// there (at a UTF-8 character boundary) and the rest of it skipped unread into memory, so one huge
// line (or /dev/zero) cannot take memory without bound; the cut lines are counted.
//
//   bert::LineReader reader(paths);
//   bert::LineBatch batch;
//   while (reader.next_batch(batch, 1024)) for (size_t i = 0; i < batch.size(); ++i) use(batch.line(i));
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bert {

// Consecutive lines of one input.
struct LineBatch {
  std::string source;          // file name, or "<stdin>"
  uint64_t first_line = 1;     // 1-based number of line(0) in its input
  uint64_t sequence = 0;       // position of this batch in the whole run, from 0
  std::string data;            // the lines, without their '\n'
  std::vector<size_t> starts;  // line i is data[starts[i], starts[i+1])
  std::vector<size_t> cut;     // indices of the lines cut at max_line_bytes (usually none)

  size_t size() const { return starts.empty() ? 0 : starts.size() - 1; }
  std::string_view line(size_t i) const {
    return std::string_view(data).substr(starts[i], starts[i + 1] - starts[i]);
  }
  uint64_t line_number(size_t i) const { return first_line + i; }
  bool was_cut(size_t i) const;
  void clear();
};

inline constexpr size_t kDefaultMaxLineBytes = size_t(8) << 20;

class LineReader {
 public:
  explicit LineReader(std::vector<std::string> paths, size_t max_line_bytes = kDefaultMaxLineBytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Fills `batch` with at least one and at most max_lines lines (all from one input); false at the
  // end of all inputs. Throws bert::Error (ERROR_IO) naming a file that cannot be opened or read.
  bool next_batch(LineBatch& batch, size_t max_lines = 1024, size_t max_bytes = 1 << 20);

  // Whether the next next_batch() can return without waiting: a complete line is buffered, or the
  // input has bytes (or its end) ready. False for a pipe or terminal with nothing written yet.
  bool input_ready() const;

  // Lines cut at max_line_bytes so far, and where the first one was ("<stdin>:3").
  uint64_t cut_lines() const { return cut_count_; }
  const std::string& first_cut() const { return first_cut_; }
  size_t max_line_bytes() const { return max_line_bytes_; }

 private:
  bool open_next();
  bool fill();  // one read(); false at end of the current input
  void append_line(LineBatch& batch, size_t len, bool cut);

  std::vector<std::string> paths_;
  size_t next_path_ = 0;
  int fd_ = -1;
  std::string name_;
  uint64_t line_no_ = 1;
  uint64_t batches_ = 0;
  std::string buf_;    // bytes read but not handed out
  size_t pos_ = 0;     // start of the unconsumed part of buf_
  size_t scanned_ = 0; // buf_[pos_, scanned_) holds no '\n'
  bool eof_ = false;
  size_t max_line_bytes_;
  bool skipping_ = false;  // inside the rest of a cut line: discard up to its '\n'
  uint64_t cut_count_ = 0;
  std::string first_cut_;
};

}  // namespace bert
