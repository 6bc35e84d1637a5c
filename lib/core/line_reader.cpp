#include "core/line_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"  // fail_io

namespace bert {

void LineBatch::clear() {
  data.clear();
  starts.clear();
  cut.clear();
}

bool LineBatch::was_cut(size_t i) const { return std::find(cut.begin(), cut.end(), i) != cut.end(); }

LineReader::LineReader(std::vector<std::string> paths, size_t max_line_bytes)
    : paths_(std::move(paths)), max_line_bytes_(std::max<size_t>(max_line_bytes, 4)) {
  if (paths_.empty()) paths_.push_back("-");
}

LineReader::~LineReader() {
  if (fd_ > 0) ::close(fd_);
}

bool LineReader::open_next() {
  if (fd_ > 0) ::close(fd_);
  fd_ = -1;
  if (next_path_ >= paths_.size()) return false;
  const std::string& p = paths_[next_path_++];
  if (p == "-") {
    fd_ = 0;
    name_ = "<stdin>";
  } else {
    fd_ = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail_io("cannot open {}: {}", p, std::strerror(errno));
    name_ = p;
  }
  line_no_ = 1;
  buf_.clear();
  pos_ = 0;
  scanned_ = 0;
  eof_ = false;
  skipping_ = false;
  return true;
}

bool LineReader::fill() {
  if (eof_) return false;
  if (pos_ > 0) {  // keep only the unconsumed tail
    buf_.erase(0, pos_);
    scanned_ = scanned_ > pos_ ? scanned_ - pos_ : 0;
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + (1 << 16));
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data() + old, 1 << 16);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      buf_.resize(old);
      if (e == EISDIR) fail_io("cannot read {}: is a directory", name_);
      fail_io("cannot read {}: {}", name_, std::strerror(e));
    }
    buf_.resize(old + size_t(n));
    if (n == 0) eof_ = true;
    return n > 0;
  }
}

// Hands out buf_[pos_, pos_ + len) as the next line of `batch` and consumes it (and its '\n' unless
// the line was cut: the rest of a cut line is skipped later).
void LineReader::append_line(LineBatch& batch, size_t len, bool cut) {
  if (batch.starts.empty()) {
    batch.starts.push_back(0);
    batch.source = name_;
    batch.first_line = line_no_;
  }
  if (cut) {
    batch.cut.push_back(batch.size());
    if (cut_count_++ == 0) first_cut_ = name_ + ":" + std::to_string(line_no_);
  }
  batch.data.append(buf_, pos_, len);
  batch.starts.push_back(batch.data.size());
  pos_ += cut ? len : len + 1;
  ++line_no_;
}

bool LineReader::input_ready() const {
  if (fd_ < 0 || eof_) return true;  // the next input is opened (a file) or this one is done
  if (std::memchr(buf_.data() + pos_, '\n', buf_.size() - pos_)) return true;
  struct pollfd p {fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;  // regular files are always ready
}

bool LineReader::next_batch(LineBatch& batch, size_t max_lines, size_t max_bytes) {
  batch.clear();
  for (;;) {
    if (fd_ < 0 && !open_next()) return false;
    // Complete lines already buffered.
    while (batch.size() < max_lines && batch.data.size() < max_bytes) {
      size_t from = std::max(pos_, scanned_);  // a long line is not scanned again after each read
      const void* nl = std::memchr(buf_.data() + from, '\n', buf_.size() - from);
      const size_t nl_at = nl ? size_t(static_cast<const char*>(nl) - buf_.data()) : buf_.size();
      if (skipping_) {  // the rest of a cut line
        pos_ = scanned_ = nl ? nl_at + 1 : buf_.size();
        skipping_ = !nl;
        if (skipping_) break;
        continue;
      }
      if (nl_at - pos_ > max_line_bytes_) {
        // Cut at a character boundary: step back over UTF-8 continuation bytes (at most three).
        size_t len = max_line_bytes_;
        for (int k = 0; k < 3 && (static_cast<unsigned char>(buf_[pos_ + len]) & 0xC0) == 0x80; ++k) --len;
        append_line(batch, len, /*cut=*/true);
        skipping_ = true;
        continue;
      }
      if (!nl) {
        scanned_ = buf_.size();
        break;
      }
      append_line(batch, nl_at - pos_, /*cut=*/false);
    }
    if (batch.size() > 0) {
      batch.sequence = batches_++;
      return true;
    }
    if (!fill()) {
      // End of this input: a last line without '\n' is still a line.
      if (pos_ < buf_.size() && !skipping_) {
        append_line(batch, buf_.size() - pos_, /*cut=*/false);
        pos_ = buf_.size();
        batch.sequence = batches_++;
        return true;
      }
      if (fd_ > 0) ::close(fd_);
      fd_ = -1;
      // stdin is never reopened (fd 0 is left open).
    }
  }
}

}  // namespace bert
