// Output: buffered writes to standard output (or a file) that notice a closed pipe. When the
// reader goes away (`bertctl ... | head`), write() throws BrokenPipe, which cmd/main.cpp turns
// into a quiet, successful exit, as ripgrep does.
//
//   bert::Output out;                 // stdout
//   out.write("hello\n"); out.flush();
#pragma once
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

namespace bert {

struct BrokenPipe : std::exception {
  const char* what() const noexcept override { return "broken pipe"; }
};

class Output {
 public:
  Output();                           // standard output
  explicit Output(int fd, std::string name);
  ~Output();                          // flushes, ignoring errors (call flush() to see them)
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void write(std::string_view s);
  void flush();

  // Writes what the standard-output Output holds, for a fatal signal handler (async-signal-safe;
  // the model faults on its own threads while the writer waits for it, so the buffer is whole).
  static void flush_standard_output_on_fatal() noexcept;

 private:
  int fd_;
  std::string name_;
  std::string buf_;
};

// write(2) until all n bytes are out or it fails; async-signal-safe (fatal signal handlers).
void write_fully(int fd, const char* p, size_t n) noexcept;

// JSON text helpers for the hand-written JSONL writers on hot paths.
void append_json_string(std::string& out, std::string_view utf8);  // with quotes, escaped
void append_float(std::string& out, float v);  // shortest text that reads back as the same float

}  // namespace bert
