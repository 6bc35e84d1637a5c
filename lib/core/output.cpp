#include "core/output.hpp"

#include <atomic>

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>  // format_to

#include "core/error.hpp"  // fail_io

namespace bert {

namespace {
std::atomic<Output*> g_standard_output{nullptr};  // the newest Output on fd 1, for fatal signals
}  // namespace

Output::Output() : fd_(1), name_("standard output") { g_standard_output.store(this); }
Output::Output(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  if (fd_ == 1) g_standard_output.store(this);
}

void Output::flush_standard_output_on_fatal() noexcept {
  if (Output* o = g_standard_output.load()) write_fully(1, o->buf_.data(), o->buf_.size());
}

void write_fully(int fd, const char* p, size_t n) noexcept {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w <= 0) return;
    p += w, n -= size_t(w);
  }
}

Output::~Output() {
  Output* self = this;
  g_standard_output.compare_exchange_strong(self, nullptr);
  try {
    flush();
  } catch (...) {
  }
}

void Output::write(std::string_view s) {
  buf_.append(s);
  if (buf_.size() >= (1 << 16)) flush();
}

void Output::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      buf_.clear();
      if (e == EPIPE) throw BrokenPipe();
      fail_io("cannot write to {}: {}", name_, std::strerror(e));
    }
    done += size_t(n);
  }
  buf_.clear();
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out.push_back(char(c));
        }
    }
  }
  out.push_back('"');
}

void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf; null keeps the line parseable
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace bert
