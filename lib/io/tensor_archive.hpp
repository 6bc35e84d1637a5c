// TensorArchive: the common in-memory view of a checkpoint, whatever file it came from
// (model.safetensors, pytorch_model.bin, our GGUF). Each tensor is a TensorData view: name, dtype,
// shape in PyTorch order and a pointer to little-endian, row-major, contiguous bytes. The archive
// owns the memory behind the views (a memory map, or buffers when a reader had to copy), so views
// stay valid as long as the archive lives, also after it is moved.
//
//   bert::io::TensorArchive ar = bert::io::read_safetensors("model.safetensors");
//   for (const auto& t : ar.tensors()) fmt::print("{} {} {}\n", t.name, dtype_name(t.dtype), t.numel());
//   if (const auto* w = ar.find("bert.pooler.dense.weight")) std::vector<float> v = to_f32(*w);
#pragma once
#include <cstddef>  // size_t
#include <cstdint>  // int64_t
#include <map>      // metadata
#include <memory>   // shared_ptr (owners of the bytes)
#include <span>     // span
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bert::io {

enum class DType {
  DTYPE_F32,
  DTYPE_F16,
  DTYPE_BF16,
  DTYPE_F64,
  DTYPE_I8,
  DTYPE_I16,
  DTYPE_I32,
  DTYPE_I64,
  DTYPE_U8,
  DTYPE_BOOL,
};

size_t dtype_size(DType dtype);       // bytes per element
const char* dtype_name(DType dtype);  // safetensors spelling: "F32", "BF16", "I64", "BOOL", ...
bool dtype_is_float(DType dtype);     // F32, F16, BF16: what to_f32 converts

struct TensorData {
  std::string name;
  DType dtype = DType::DTYPE_F32;
  std::vector<int64_t> shape;  // PyTorch order, outermost first; empty for a scalar
  const void* data = nullptr;  // little-endian, row-major, contiguous, aligned to dtype_size
  size_t nbytes = 0;           // numel() * dtype_size(dtype)

  int64_t numel() const;
};

// "[30522, 32]"
std::string shape_string(const std::vector<int64_t>& shape);

// Number of elements of `shape`, or -1 when a dimension is negative or the product (or its size
// in bytes for elements of `elem_size` bytes) would not fit in int64_t.
int64_t checked_numel(const std::vector<int64_t>& shape, size_t elem_size);

class TensorArchive {
 public:
  TensorArchive() = default;
  explicit TensorArchive(std::string source_name) : source(std::move(source_name)) {}
  TensorArchive(TensorArchive&&) = default;
  TensorArchive& operator=(TensorArchive&&) = default;
  TensorArchive(const TensorArchive&) = delete;
  TensorArchive& operator=(const TensorArchive&) = delete;

  // nullptr when absent.
  const TensorData* find(std::string_view name) const;
  // In the order of the file (safetensors: data offsets; .bin: the state dict; GGUF: directory).
  const std::vector<TensorData>& tensors() const { return tensors_; }

  std::string source;                           // file name, for messages
  std::map<std::string, std::string> metadata;  // safetensors `__metadata__`; empty otherwise

  // For readers. add() refuses a second tensor of the same name (ERROR_MODEL, naming source), and
  // copies the bytes into an owned buffer if tensor.data is not aligned to the element size.
  void add(TensorData tensor);
  // Keeps `owner` alive as long as the archive (a MappedFile, a buffer, ...).
  void keep(std::shared_ptr<const void> owner) { owners_.push_back(std::move(owner)); }
  // A zeroed buffer of n bytes owned by the archive, aligned to 64 bytes.
  void* allocate(size_t n);
  // Moves every tensor and owner of `other` into this archive (sharded checkpoints).
  void absorb(TensorArchive&& other);

 private:
  std::vector<TensorData> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::shared_ptr<const void>> owners_;
};

// Tensor values as floats. Accepts F32, F16 and BF16; any other dtype is an ERROR_MODEL naming
// the tensor. The span version needs out.size() == t.numel().
std::vector<float> to_f32(const TensorData& t);
void to_f32(const TensorData& t, std::span<float> out);

// Floats encoded as F32, F16 or BF16 into `out` (in.size() * dtype_size(dtype) bytes).
void from_f32(std::span<const float> in, DType dtype, void* out);

// A byte range [begin, end) of a file that holds one tensor.
struct ByteRange {
  uint64_t begin = 0, end = 0;
  const std::string* name = nullptr;
};
// Throws ERROR_MODEL "<source>: tensors 'a' and 'b' overlap (bytes [x, y) and [z, w))" if two
// non-empty ranges share a byte. Sorts `ranges`.
void check_no_overlap(std::vector<ByteRange>& ranges, const std::string& source);

}  // namespace bert::io
