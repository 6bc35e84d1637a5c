// Files in and out: whole-file reads, read-only memory maps, and output written to a temporary
// name that is renamed over the target only when complete (so no half-written file is ever seen).
//
//   std::string text = bert::read_file("config.json");
//   bert::MappedFile weights("model.gguf");           // weights.data(), weights.size()
//   bert::AtomicFile out("model.gguf");               // write through out.handle() or out.write()
//   out.write(bytes, n); out.commit();                // rename happens here; the destructor
//                                                     // removes the temporary otherwise
#pragma once
#include <cstddef>     // size_t
#include <cstdio>      // FILE
#include <string>
#include <string_view>

namespace bert {

// Whole file as bytes. Throws ERROR_IO naming the path ("cannot open X: No such file or directory").
std::string read_file(const std::string& path);

// Maps the pages of [p, p+n) of a read-only file map now, in one call (MADV_POPULATE_READ; a no-op
// where the kernel lacks it). Faulting them in one by one as a forward pass first reads them costs
// an order of magnitude more on virtual machines (measured: 438 MB in 16–26 ms against 160–190 ms).
void map_pages_now(const void* p, size_t n);

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  int slot_ = -1;  // index in the table of mapped ranges the SIGBUS handler reads
};

// Where PATH is a symlink, the file it leads to is replaced (the link stays). Where it is a device,
// FIFO or socket ("/dev/stdout", a named pipe), or "-" (standard output), there is nothing to
// replace: the bytes go straight in (through an unnamed temporary when the writer `seeks`).
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path, bool seeks = false);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  FILE* handle() { return file_; }
  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  size_t tell() const;
  void commit();  // flush, fsync, close, rename onto the target

  const std::string& path() const { return path_; }

 private:
  void commit_direct();
  [[noreturn]] void fail_write() const;

  std::string path_;
  std::string target_path_;  // what the rename replaces: path_ with its symlinks followed
  std::string temp_path_;    // empty when written in place
  FILE* file_ = nullptr;
  int direct_fd_ = -1;       // the device or pipe a spooled temporary is copied to
  bool spooled_ = false;
  int slot_ = -1;  // index in the table of temporaries removed on SIGINT/SIGTERM
};

// Removes every uncommitted AtomicFile temporary; async-signal-safe (called from signal handlers).
void remove_pending_temporaries() noexcept;

// A read of a MappedFile page past the file's end raises SIGBUS: the file was truncated (or
// rewritten in place) while in use. This installs a handler that, for a fault inside a mapped
// file, writes what standard output already holds (`flush_done`, async-signal-safe), one line
// "bertctl: COMMAND: FILE: the file changed (it was truncated) while in use", removes pending
// temporaries and exits 1; other SIGBUS faults keep the default action.
void install_mapped_file_fault_handler(const char* command, void (*flush_done)() noexcept);

bool file_exists(const std::string& path);

// An anonymous in-memory file (memfd) that other code can open by path(), /proc/self/fd/N: data a
// command makes itself (SQuAD questions as JSON Lines) read through the same input path as a file.
class MemFile {
 public:
  MemFile() = default;
  explicit MemFile(const char* name);  // throws ERROR_IO
  ~MemFile();
  MemFile(MemFile&& other) noexcept;
  MemFile& operator=(MemFile&& other) noexcept;
  void write(std::string_view data);  // appends; throws ERROR_IO
  std::string path() const;

 private:
  int fd_ = -1;
};
// Whether writing PATH would replace a regular file or directory the user has (what --force is
// for); a device, FIFO, "-" or a path that does not exist replaces nothing.
bool output_would_replace(const std::string& path);

}  // namespace bert
