#include "core/file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.hpp"  // fail_io

namespace bert {

static std::string errno_text() { return std::strerror(errno); }

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io("cannot open {}: {}", path, errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail_io("cannot read {}: {}", path, S_ISDIR(st.st_mode) ? "is a directory" : errno_text());
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail_io("cannot read {}: {}", path, errno_text());
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void map_pages_now(const void* p, size_t n) {
#ifndef MADV_POPULATE_READ
  constexpr int MADV_POPULATE_READ = 22;  // Linux 5.14; older kernels answer EINVAL, which we ignore
#endif
  if (n == 0) return;
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) & ~(page - 1), end = reinterpret_cast<uintptr_t>(p) + n;
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io("cannot open {}: {}", path, errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail_io("cannot stat {}: {}", path, errno_text());
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail_io("cannot read {}: is a directory", path);
  }
  size_ = size_t(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail_io("cannot map {}: {}", path, errno_text());
    }
    data_ = static_cast<const unsigned char*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

// Temporaries to remove if a signal ends the process: fixed storage, so the handler only reads.
namespace {
constexpr int kMaxPending = 16;
constexpr size_t kMaxPath = 4096;
char g_pending[kMaxPending][kMaxPath];
std::atomic<bool> g_used[kMaxPending];
}  // namespace

void remove_pending_temporaries() noexcept {
  for (int i = 0; i < kMaxPending; ++i)
    if (g_used[i].load()) ::unlink(g_pending[i]);
}

AtomicFile::AtomicFile(const std::string& path) : path_(path) {
  std::filesystem::path target(path);
  std::random_device rd;
  std::string name = "." + target.filename().string() + ".tmp" + std::to_string(rd() % 1000000);
  temp_path_ = (target.parent_path() / name).string();
  file_ = std::fopen(temp_path_.c_str(), "wbx");
  if (!file_) fail_io("cannot create {}: {}", temp_path_, errno_text());
  if (temp_path_.size() < kMaxPath) {
    for (int i = 0; i < kMaxPending; ++i) {
      bool expected = false;
      if (g_used[i].compare_exchange_strong(expected, true)) {
        std::memcpy(g_pending[i], temp_path_.c_str(), temp_path_.size() + 1);
        slot_ = i;
        break;
      }
    }
  }
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    ::unlink(temp_path_.c_str());
  }
  if (slot_ >= 0) g_used[slot_].store(false);
}

void AtomicFile::write(const void* data, size_t n) {
  if (n && std::fwrite(data, 1, n, file_) != n) fail_io("cannot write {}: {}", path_, errno_text());
}

size_t AtomicFile::tell() const { return size_t(std::ftell(file_)); }

void AtomicFile::commit() {
  if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0)
    fail_io("cannot write {}: {}", path_, errno_text());
  int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) {
    ::unlink(temp_path_.c_str());
    fail_io("cannot write {}: {}", path_, errno_text());
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    ::unlink(temp_path_.c_str());
    fail_io("cannot rename {} to {}: {}", temp_path_, path_, std::strerror(e));
  }
  if (slot_ >= 0) g_used[slot_].store(false);
  slot_ = -1;
}

}  // namespace bert
