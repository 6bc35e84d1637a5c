// Helpers for the lib/io unit tests (header only; not part of bert_core): a temporary folder,
// whole-file byte helpers, and a check that a call throws bert::Error of a given kind.
//
//   TempDir dir;
//   write_bytes(dir.file("x.safetensors"), bytes);
//   std::string msg = error_of([&] { read_safetensors(path); });   // "" if nothing was thrown
//   CHECK_CONTAINS(msg, "beyond the end");
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>     // mkdtemp
#include <filesystem>  // remove_all
#include <fstream>
#include <iterator>
#include <string>

#include "core/error.hpp"  // bert::Error

namespace bert::io::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bertctl-io-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(out.good());
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}
// Checks that `message` contains `needle`, and shows the whole message when it does not.
// `message` is evaluated once (doctest builds the failure text lazily, after the check).
#define CHECK_CONTAINS(message, needle)                                    \
  do {                                                                     \
    const std::string bert_check_message_ = (message);                     \
    CHECK_MESSAGE(::bert::io::test::contains(bert_check_message_, needle), \
                  "message: " << bert_check_message_);                     \
  } while (0)

// The message of the bert::Error that f throws; fails the test if f throws nothing, something
// else, or an error of another kind.
template <class F>
std::string error_of(F&& f, ErrorKind kind = ErrorKind::ERROR_MODEL) {
  try {
    f();
  } catch (const Error& e) {
    CHECK_MESSAGE(e.kind() == kind, "unexpected error kind for: " << e.what());
    return e.what();
  }
  FAIL("expected a bert::Error, but nothing was thrown");
  return "";
}

}  // namespace bert::io::test
