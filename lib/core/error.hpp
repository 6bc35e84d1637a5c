// bert::Error: the one exception type of the library. It carries a kind (which decides the exit
// code) and a message that names the file, key or tensor and says what to do. cmd/main.cpp catches
// it once and prints `bertctl: <command>: <message>`.
//
//   throw bert::Error(bert::ErrorKind::ERROR_INPUT, fmt::format("{}: line {}: invalid UTF-8", path, n));
//   bert::fail_input("{}: not a safetensors file", path);        // same thing, formatted
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>  // fmt::format

namespace bert {

enum class ErrorKind {
  ERROR_INPUT,     // bad user data: text, CSV, JSON, arguments read from files
  ERROR_MODEL,     // missing, corrupt or unsupported checkpoint / model file
  ERROR_IO,        // the operating system refused (open, write, rename, mmap)
  ERROR_USAGE,     // a bad combination of flags (exit code 2)
  ERROR_INTERNAL,  // a bug: an invariant did not hold
  ERROR_INTERRUPTED,  // stopped by SIGINT after saving what can be resumed (exit code 130)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(kind, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void fail_input(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::ERROR_INPUT, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void fail_model(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::ERROR_MODEL, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void fail_io(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::ERROR_IO, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
[[noreturn]] void fail_usage(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ErrorKind::ERROR_USAGE, fmt::format(f, std::forward<Args>(args)...));
}

// Checks an invariant that only a bug can break; stays on in release builds (cheap, and a wrong
// answer is worse than a stop).
#define BERT_CHECK(cond)                                                                         \
  do {                                                                                           \
    if (!(cond))                                                                                 \
      ::bert::fail(::bert::ErrorKind::ERROR_INTERNAL, "internal error: {} ({}:{})", #cond, __FILE__, \
                   __LINE__);                                                                    \
  } while (0)

}  // namespace bert
