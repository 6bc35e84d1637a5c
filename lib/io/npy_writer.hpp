// NpyWriter: a float32 matrix streamed row by row into a NumPy .npy file (format 1.0) whose row
// count is only known at the end; the file is written under a temporary name and renamed by
// finish(), so a failed run leaves nothing behind.
//
//   bert::io::NpyWriter npy("out.npy", 768);
//   npy.write_row(vec.data());  ...  npy.finish();   // shape (rows, 768), '<f4'
#pragma once
#include <cstdint>
#include <string>

#include "core/file.hpp"  // AtomicFile

namespace bert::io {

class NpyWriter {
 public:
  NpyWriter(const std::string& path, int64_t columns);
  void write_row(const float* row);
  void finish();  // rewrites the header with the row count, then renames into place

 private:
  std::string header(int64_t rows) const;

  AtomicFile file_;
  int64_t columns_;
  int64_t rows_ = 0;
};

}  // namespace bert::io
