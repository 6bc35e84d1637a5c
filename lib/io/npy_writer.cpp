#include "io/npy_writer.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "core/error.hpp"  // fail_io

namespace bert::io {

NpyWriter::NpyWriter(const std::string& path, int64_t columns) : file_(path, /*seeks=*/true), columns_(columns) {
  file_.write(header(0));
}

// Magic, version 1.0, header length, then a Python dict literal padded with spaces so the data
// starts at a multiple of 64 bytes. The row count is padded to a fixed width so the header can be
// rewritten in place once it is known.
std::string NpyWriter::header(int64_t rows) const {
  std::string dict = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({:>20}, {}), }}", rows, columns_);
  const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string h("\x93NUMPY\x01\x00", 8);
  h.push_back(char(dict.size() & 0xff));
  h.push_back(char(dict.size() >> 8));
  return h + dict;
}

void NpyWriter::write_row(const float* row) {
  file_.write(row, size_t(columns_) * sizeof(float));  // x86-64 is little-endian, as '<f4' says
  ++rows_;
}

void NpyWriter::finish() {
  if (std::fseek(file_.handle(), 0, SEEK_SET) != 0) fail_io("cannot write {}", file_.path());
  file_.write(header(rows_));
  if (std::fseek(file_.handle(), 0, SEEK_END) != 0) fail_io("cannot write {}", file_.path());
  file_.commit();
}

}  // namespace bert::io
