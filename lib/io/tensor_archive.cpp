#include "io/tensor_archive.hpp"

#include <algorithm>  // sort
#include <cstring>    // memcpy
#include <new>        // align_val_t, bad_alloc

#include "core/error.hpp"  // fail_model
#include "io/half.hpp"     // f16/bf16 <-> f32

namespace bert::io {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::DTYPE_F64:
    case DType::DTYPE_I64:
      return 8;
    case DType::DTYPE_F32:
    case DType::DTYPE_I32:
      return 4;
    case DType::DTYPE_F16:
    case DType::DTYPE_BF16:
    case DType::DTYPE_I16:
      return 2;
    case DType::DTYPE_I8:
    case DType::DTYPE_U8:
    case DType::DTYPE_BOOL:
      return 1;
  }
  return 1;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::DTYPE_F32:
      return "F32";
    case DType::DTYPE_F16:
      return "F16";
    case DType::DTYPE_BF16:
      return "BF16";
    case DType::DTYPE_F64:
      return "F64";
    case DType::DTYPE_I8:
      return "I8";
    case DType::DTYPE_I16:
      return "I16";
    case DType::DTYPE_I32:
      return "I32";
    case DType::DTYPE_I64:
      return "I64";
    case DType::DTYPE_U8:
      return "U8";
    case DType::DTYPE_BOOL:
      return "BOOL";
  }
  return "?";
}

bool dtype_is_float(DType dtype) {
  return dtype == DType::DTYPE_F32 || dtype == DType::DTYPE_F16 || dtype == DType::DTYPE_BF16;
}

int64_t checked_numel(const std::vector<int64_t>& shape, size_t elem_size) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > INT64_MAX / d) return -1;
    n *= d;
  }
  if (elem_size > 0 && n > INT64_MAX / int64_t(elem_size)) return -1;
  return n;
}

int64_t TensorData::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

const TensorData* TensorArchive::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void TensorArchive::add(TensorData tensor) {
  if (index_.count(tensor.name)) fail_model("{}: tensor '{}' appears twice", source, tensor.name);
  // Views must be aligned to their element size (a file may place data anywhere): copy if not.
  if (reinterpret_cast<uintptr_t>(tensor.data) % dtype_size(tensor.dtype) != 0) {
    void* copy = allocate(tensor.nbytes);
    std::memcpy(copy, tensor.data, tensor.nbytes);
    tensor.data = copy;
  }
  index_.emplace(tensor.name, tensors_.size());
  tensors_.push_back(std::move(tensor));
}

void* TensorArchive::allocate(size_t n) {
  constexpr std::align_val_t kAlign{64};
  void* p = nullptr;
  try {
    p = ::operator new(n ? n : 1, kAlign);
  } catch (const std::bad_alloc&) {
    fail_model("{}: cannot allocate {} bytes", source, n);
  }
  std::memset(p, 0, n);
  owners_.emplace_back(p, [](const void* q) { ::operator delete(const_cast<void*>(q), kAlign); });
  return p;
}

void TensorArchive::absorb(TensorArchive&& other) {
  for (auto& owner : other.owners_) owners_.push_back(std::move(owner));
  other.owners_.clear();
  for (auto& t : other.tensors_) {
    if (index_.count(t.name)) fail_model("{}: tensor '{}' is also in {}", other.source, t.name, source);
    add(std::move(t));
  }
  other.tensors_.clear();
  other.index_.clear();
}

void to_f32(const TensorData& t, std::span<float> out) {
  if (!dtype_is_float(t.dtype))
    fail_model("tensor '{}' has dtype {}; expected a floating-point tensor (F32, F16 or BF16)", t.name,
               dtype_name(t.dtype));
  size_t n = t.nbytes / dtype_size(t.dtype);
  BERT_CHECK(out.size() == n);
  const auto* src = static_cast<const unsigned char*>(t.data);
  if (t.dtype == DType::DTYPE_F32) {
    if (n) std::memcpy(out.data(), src, n * 4);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + 2 * i, 2);
    out[i] = t.dtype == DType::DTYPE_F16 ? f16_to_f32(h) : bf16_to_f32(h);
  }
}

std::vector<float> to_f32(const TensorData& t) {
  std::vector<float> out(dtype_is_float(t.dtype) ? t.nbytes / dtype_size(t.dtype) : 0);
  to_f32(t, out);
  return out;
}

void from_f32(std::span<const float> in, DType dtype, void* out) {
  auto* dst = static_cast<unsigned char*>(out);
  switch (dtype) {
    case DType::DTYPE_F32:
      if (!in.empty()) std::memcpy(dst, in.data(), in.size() * 4);
      return;
    case DType::DTYPE_F16:
    case DType::DTYPE_BF16:
      for (size_t i = 0; i < in.size(); ++i) {
        uint16_t h = dtype == DType::DTYPE_F16 ? f32_to_f16(in[i]) : f32_to_bf16(in[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    default:
      fail(ErrorKind::ERROR_INTERNAL, "internal error: from_f32 to dtype {}", dtype_name(dtype));
  }
}

void check_no_overlap(std::vector<ByteRange>& ranges, const std::string& source) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
  const ByteRange* prev = nullptr;
  for (const auto& r : ranges) {
    if (r.begin == r.end) continue;
    if (prev && r.begin < prev->end)
      fail_model("{}: tensors '{}' and '{}' overlap (bytes [{}, {}) and [{}, {}))", source, *prev->name,
                 *r.name, prev->begin, prev->end, r.begin, r.end);
    if (!prev || r.end > prev->end) prev = &r;
  }
}

}  // namespace bert::io
