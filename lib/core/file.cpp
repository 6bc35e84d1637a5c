#include "core/file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>

#include "core/error.hpp"   // fail_io
#include "core/output.hpp"  // BrokenPipe

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

namespace {

// Mapped files, for the SIGBUS handler: fixed storage, so the handler only reads.
constexpr int kMaxMappings = 16;
constexpr size_t kMaxMappedPath = 1024;
struct Mapping {
  std::atomic<bool> claimed{false};  // taken by a MappedFile (set first, so two cannot take it)
  std::atomic<bool> used{false};     // filled in: the handler reads it
  const unsigned char* begin = nullptr;
  size_t size = 0;
  char path[kMaxMappedPath] = {};
};
Mapping g_mappings[kMaxMappings];
const char* g_fault_command = "";
void (*g_flush_done)() noexcept = nullptr;

int register_mapping(const unsigned char* begin, size_t size, const std::string& path) {
  for (int i = 0; i < kMaxMappings; ++i) {
    bool expected = false;
    if (!g_mappings[i].claimed.compare_exchange_strong(expected, true)) continue;
    Mapping& m = g_mappings[i];
    m.begin = begin;
    m.size = size;
    const size_t n = std::min(path.size(), kMaxMappedPath - 1);
    std::memcpy(m.path, path.data(), n);
    m.path[n] = '\0';
    m.used.store(true);  // complete: the handler may read it
    return i;
  }
  return -1;  // more maps than slots: a fault there keeps the default action
}

void unregister_mapping(int slot) {
  if (slot < 0) return;
  g_mappings[slot].used.store(false);
  g_mappings[slot].claimed.store(false);
}

void on_sigbus(int sig, siginfo_t* info, void*) {
  const auto* addr = static_cast<const unsigned char*>(info->si_addr);
  for (const Mapping& m : g_mappings) {
    if (!m.used.load() || addr < m.begin || addr >= m.begin + m.size) continue;
    if (g_flush_done) g_flush_done();
    for (const char* part : {"bertctl: ", g_fault_command, ": ", static_cast<const char*>(m.path),
                             ": the file changed (it was truncated) while in use\n"})
      write_fully(2, part, std::strlen(part));
    remove_pending_temporaries();
    ::_exit(1);
  }
  ::signal(sig, SIG_DFL);  // not ours: the default action when the instruction runs again
}

}  // namespace

void install_mapped_file_fault_handler(const char* command, void (*flush_done)() noexcept) {
  g_fault_command = command;
  g_flush_done = flush_done;
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGBUS, &sa, nullptr);
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
    slot_ = register_mapping(data_, size_, path_);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  unregister_mapping(slot_);
  if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    unregister_mapping(slot_);
    if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = other.data_;
    size_ = other.size_;
    slot_ = other.slot_;  // the table entry holds the same range and path
    other.data_ = nullptr;
    other.size_ = 0;
    other.slot_ = -1;
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

namespace {

// The file a path names after following its symbolic links (the path itself if it is none, or if a
// link dangles: then the file is created where the last link points).
std::filesystem::path follow_links(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  fs::path p = path;
  for (int hops = 0; hops < 40; ++hops) {  // Linux's own limit on a chain of links
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(p, ec))) return p;
    fs::path next = fs::read_symlink(p, ec);
    if (ec) fail_io("cannot read the link {}: {}", p.string(), ec.message());
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  fail_io("cannot write {}: too many levels of symbolic links", path.string());
}

// Not a regular file or directory: a device, FIFO or socket, written in place.
bool is_special(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

}  // namespace

// The descriptor a name like /dev/stdout or /dev/fd/3 stands for (-1 if none): written through a
// copy of the descriptor, as a shell's redirection means, even when that is a regular file.
static int named_descriptor(const std::string& path) {
  if (path == "-" || path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const char* prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    const std::string_view p(prefix);
    if (path.size() > p.size() && path.compare(0, p.size(), p) == 0 &&
        path.find_first_not_of("0123456789", p.size()) == std::string::npos && path.size() - p.size() < 9)
      return std::stoi(path.substr(p.size()));
  }
  return -1;
}

bool output_would_replace(const std::string& path) {
  struct stat st {};
  return named_descriptor(path) < 0 && ::stat(path.c_str(), &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
}

namespace {

// Removes DIR/PREFIX<pid>.<n> files whose process no longer exists.
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& prefix) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir.empty() ? "." : dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const std::string rest = name.substr(prefix.size());
    const size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || rest.find_first_not_of("0123456789") != dot) continue;
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove(it->path(), ec);
  }
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path, bool seeks) : path_(path) {
  const int fd = named_descriptor(path);
  if (fd >= 0 || is_special(path)) {
    // Standard output, a terminal, a pipe, /dev/null: nothing to replace, so written straight in;
    // a writer that seeks goes through an unnamed temporary copied out at commit().
    direct_fd_ = fd >= 0 ? ::dup(fd) : ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (direct_fd_ < 0) fail_io("cannot open {}: {}", path, errno_text());
    if (path == "-") path_ = "standard output";
    if (seeks && ::lseek(direct_fd_, 0, SEEK_CUR) < 0) {
      file_ = std::tmpfile();
      if (!file_) fail_io("cannot create a temporary file for {}: {}", path_, errno_text());
      spooled_ = true;
    } else {
      file_ = ::fdopen(direct_fd_, "wb");
      if (!file_) fail_io("cannot open {}: {}", path_, errno_text());
      direct_fd_ = -1;  // owned by file_ now
    }
    return;
  }
  // A regular file (or none yet): written beside the file a symlink leads to and renamed over it,
  // so the link stays a link.
  const std::filesystem::path target = follow_links(path);
  target_path_ = target.string();
  // The name carries our process id, so that the temporaries of a process killed outright (kill -9,
  // a power cut: up to the size of a model) are recognised and removed on the next write here.
  const std::string prefix = "." + target.filename().string() + ".tmp.";
  remove_stale_temporaries(target.parent_path(), prefix);
  std::random_device rd;
  std::string name = prefix + std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
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
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  }
  if (direct_fd_ >= 0) ::close(direct_fd_);
  if (slot_ >= 0) g_used[slot_].store(false);
}

// A reader that went away (`| head`) ends the run quietly, as with standard output.
[[noreturn]] void AtomicFile::fail_write() const {
  if (errno == EPIPE) throw BrokenPipe();
  fail_io("cannot write {}: {}", path_, errno_text());
}

void AtomicFile::write(const void* data, size_t n) {
  if (n && std::fwrite(data, 1, n, file_) != n) fail_write();
}

size_t AtomicFile::tell() const { return size_t(std::ftell(file_)); }

void AtomicFile::commit() {
  if (temp_path_.empty()) return commit_direct();
  if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0)
    fail_io("cannot write {}: {}", path_, errno_text());
  int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) {
    ::unlink(temp_path_.c_str());
    fail_io("cannot write {}: {}", path_, errno_text());
  }
  if (std::rename(temp_path_.c_str(), target_path_.c_str()) != 0) {
    int e = errno;
    ::unlink(temp_path_.c_str());
    fail_io("cannot rename {} to {}: {}", temp_path_, target_path_, std::strerror(e));
  }
  if (slot_ >= 0) g_used[slot_].store(false);
  slot_ = -1;
}

void AtomicFile::commit_direct() {
  if (std::fflush(file_) != 0) fail_write();
  if (spooled_) {
    std::rewind(file_);
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;)
      for (size_t done = 0; done < n;) {
        const ssize_t w = ::write(direct_fd_, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) fail_write();
        done += size_t(w);
      }
    if (std::ferror(file_)) fail_io("cannot read the temporary copy of {}", path_);
    if (::close(direct_fd_) != 0) fail_io("cannot write {}: {}", path_, errno_text());
    direct_fd_ = -1;
  }
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) fail_io("cannot write {}: {}", path_, errno_text());
}

MemFile::MemFile(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {
  if (fd_ < 0) fail_io("cannot create an in-memory file: {}", std::strerror(errno));
}

MemFile::~MemFile() {
  if (fd_ >= 0) ::close(fd_);
}

MemFile::MemFile(MemFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

MemFile& MemFile::operator=(MemFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void MemFile::write(std::string_view data) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_io("cannot write an in-memory file: {}", std::strerror(errno));
    done += size_t(n);
  }
}

std::string MemFile::path() const { return "/proc/self/fd/" + std::to_string(fd_); }

}  // namespace bert
