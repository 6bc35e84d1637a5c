// Shared by the libFuzzer harnesses: an input as a file (the readers map paths), and the rule that
// a harness may only succeed or refuse with bert::Error — anything else (a crash, another
// exception, an allocation past -rss_limit_mb) is a finding.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace bert::fuzz {

// The bytes as an anonymous in-memory file, named by its /proc/self/fd path; closed on destruction.
class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : fd_(::memfd_create("fuzz", MFD_CLOEXEC)) {
    size_t done = 0;
    while (fd_ >= 0 && done < size) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemoryFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Runs f; a bert::Error is the expected refusal of a bad input.
template <class F>
void refuse_or_accept(F&& f) {
  try {
    f();
  } catch (const bert::Error&) {
  }
}

// Reads every byte of a view, so that ASan sees a view that points outside its file.
inline unsigned touch(const void* p, size_t n) {
  unsigned sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<const unsigned char*>(p)[i];
  return sum;
}

}  // namespace bert::fuzz
