#include "io/gguf.hpp"

#include <algorithm>  // reverse
#include <bit>        // endian
#include <cstring>    // memcpy
#include <type_traits>
#include <unordered_set>

#include <xxhash.h>  // XXH3_64bits: per-tensor checksums

#include "core/error.hpp"  // fail_model, BERT_CHECK
#include "core/file.hpp"   // MappedFile, AtomicFile

namespace bert::io {

static_assert(std::endian::native == std::endian::little,
              "GGUF reading and writing assume a little-endian host");

namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};

struct GgmlType {
  int id;
  DType dtype;
};
constexpr GgmlType kGgmlTypes[] = {
    {0, DType::DTYPE_F32},  {1, DType::DTYPE_F16},  {24, DType::DTYPE_I8},  {25, DType::DTYPE_I16},
    {26, DType::DTYPE_I32}, {27, DType::DTYPE_I64}, {28, DType::DTYPE_F64}, {30, DType::DTYPE_BF16},
};

// Bytes of one scalar of `type`; 0 for a string (variable) and for anything invalid.
size_t scalar_size(GgufType type) {
  switch (type) {
    case GgufType::GGUF_TYPE_UINT8:
    case GgufType::GGUF_TYPE_INT8:
    case GgufType::GGUF_TYPE_BOOL:
      return 1;
    case GgufType::GGUF_TYPE_UINT16:
    case GgufType::GGUF_TYPE_INT16:
      return 2;
    case GgufType::GGUF_TYPE_UINT32:
    case GgufType::GGUF_TYPE_INT32:
    case GgufType::GGUF_TYPE_FLOAT32:
      return 4;
    case GgufType::GGUF_TYPE_UINT64:
    case GgufType::GGUF_TYPE_INT64:
    case GgufType::GGUF_TYPE_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

bool valid_scalar_type(uint32_t t) {
  return t <= 12 && t != uint32_t(GgufType::GGUF_TYPE_ARRAY);
}

uint64_t align_up(uint64_t n, uint64_t alignment) {
  return (n + alignment - 1) / alignment * alignment;
}

template <class T>
void put(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    put<uint64_t>(out, v.size());
    out += v;
  } else if constexpr (std::is_same_v<T, bool>) {
    out += char(v ? 1 : 0);
  } else {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
  }
}

// Reads one value of type T at p (already validated) and advances p.
template <class T>
T take(const unsigned char*& p) {
  if constexpr (std::is_same_v<T, std::string>) {
    uint64_t n;
    std::memcpy(&n, p, 8);
    std::string s(reinterpret_cast<const char*>(p + 8), size_t(n));
    p += 8 + n;
    return s;
  } else if constexpr (std::is_same_v<T, bool>) {
    return *p++ != 0;
  } else {
    T v;
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    return v;
  }
}

// Bounds-checked reading of the header part of a mapped file.
class Cursor {
 public:
  Cursor(const unsigned char* data, uint64_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  const unsigned char* skip(uint64_t n, const std::string& what) {
    if (n > size_ - pos_)
      fail_model(
          "{}: {} at byte {} needs {} bytes but the file ends after {}; the file is truncated or corrupt",
          path_, what, pos_, n, size_ - pos_);
    const unsigned char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  template <class T>
  T read(const std::string& what) {
    const unsigned char* p = skip(sizeof(T), what);
    return take<T>(p);
  }
  std::string read_string(const std::string& what) {
    uint64_t n = read<uint64_t>(what + " length");
    const unsigned char* p = skip(n, what);
    return std::string(reinterpret_cast<const char*>(p), size_t(n));
  }
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return size_ - pos_; }

 private:
  const unsigned char* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& path_;
};

}  // namespace

const char* gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::GGUF_TYPE_UINT8:
      return "u8";
    case GgufType::GGUF_TYPE_INT8:
      return "i8";
    case GgufType::GGUF_TYPE_UINT16:
      return "u16";
    case GgufType::GGUF_TYPE_INT16:
      return "i16";
    case GgufType::GGUF_TYPE_UINT32:
      return "u32";
    case GgufType::GGUF_TYPE_INT32:
      return "i32";
    case GgufType::GGUF_TYPE_FLOAT32:
      return "f32";
    case GgufType::GGUF_TYPE_BOOL:
      return "bool";
    case GgufType::GGUF_TYPE_STRING:
      return "string";
    case GgufType::GGUF_TYPE_ARRAY:
      return "array";
    case GgufType::GGUF_TYPE_UINT64:
      return "u64";
    case GgufType::GGUF_TYPE_INT64:
      return "i64";
    case GgufType::GGUF_TYPE_FLOAT64:
      return "f64";
  }
  return "?";
}

int ggml_type_of(DType dtype) {
  for (const auto& t : kGgmlTypes)
    if (t.dtype == dtype) return t.id;
  return -1;
}

// ---- writer ----

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  BERT_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0);
  set<uint32_t>("general.alignment", alignment);
}

void GgufWriter::add_kv(std::string key, std::string encoded) {
  BERT_CHECK(!key.empty());
  for (const auto& kv : kvs_)
    if (kv.key == key) fail(ErrorKind::ERROR_INTERNAL, "internal error: GGUF key '{}' set twice", key);
  kvs_.push_back({std::move(key), std::move(encoded)});
}

template <class T>
requires requires {
  GgufTypeOf<T>::value;
}
void GgufWriter::set(std::string key, const T& value) {
  std::string e;
  put<uint32_t>(e, uint32_t(GgufTypeOf<T>::value));
  put<T>(e, value);
  add_kv(std::move(key), std::move(e));
}

template <class T>
void GgufWriter::set_array(std::string key, const std::vector<T>& values) {
  std::string e;
  put<uint32_t>(e, uint32_t(GgufType::GGUF_TYPE_ARRAY));
  put<uint32_t>(e, uint32_t(GgufTypeOf<T>::value));
  put<uint64_t>(e, values.size());
  for (size_t i = 0; i < values.size(); ++i) put<T>(e, T(values[i]));
  add_kv(std::move(key), std::move(e));
}

void GgufWriter::add_tensor(const TensorData& t) {
  if (t.name.size() > kGgufMaxName)
    fail_model("tensor name '{}' is {} bytes; GGUF allows at most {}", t.name, t.name.size(), kGgufMaxName);
  if (t.shape.size() > kGgufMaxDims)
    fail_model("tensor '{}' has {} dimensions; GGUF allows at most {}", t.name, t.shape.size(), kGgufMaxDims);
  if (ggml_type_of(t.dtype) < 0)
    fail_model("tensor '{}' has dtype {}, which GGUF cannot store", t.name, dtype_name(t.dtype));
  int64_t numel = checked_numel(t.shape, dtype_size(t.dtype));
  BERT_CHECK(numel >= 0 && uint64_t(numel) * dtype_size(t.dtype) == t.nbytes);
  for (const auto& other : tensors_)
    if (other.name == t.name) fail_model("tensor '{}' added twice", t.name);
  tensors_.push_back(t);
}

void GgufWriter::write(const std::string& path) const {
  std::string checksums;  // the last key: one XXH3-64 per tensor
  put<uint32_t>(checksums, uint32_t(GgufType::GGUF_TYPE_ARRAY));
  put<uint32_t>(checksums, uint32_t(GgufType::GGUF_TYPE_UINT64));
  put<uint64_t>(checksums, tensors_.size());
  for (const auto& t : tensors_) put<uint64_t>(checksums, XXH3_64bits(t.data, t.nbytes));
  std::string head(kMagic, 4);
  put<uint32_t>(head, kGgufVersion);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, kvs_.size() + 1);
  for (const auto& kv : kvs_) {
    BERT_CHECK(kv.key != kGgufChecksumKey);
    put<std::string>(head, kv.key);
    head += kv.encoded;
  }
  put<std::string>(head, kGgufChecksumKey);
  head += checksums;
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put<std::string>(head, t.name);
    put<uint32_t>(head, uint32_t(t.shape.size()));
    for (size_t i = t.shape.size(); i-- > 0;) put<int64_t>(head, t.shape[i]);  // ne[0] innermost
    put<uint32_t>(head, uint32_t(ggml_type_of(t.dtype)));
    put<uint64_t>(head, offset);
    offset += align_up(t.nbytes, alignment_);
  }
  head.resize(align_up(head.size(), alignment_), '\0');

  AtomicFile out(path);
  out.write(head);
  const std::string zeros(alignment_, '\0');
  for (const auto& t : tensors_) {
    out.write(t.data, t.nbytes);
    out.write(zeros.data(), align_up(t.nbytes, alignment_) - t.nbytes);
  }
  out.commit();
}

// ---- reader ----

GgufFile::GgufFile(const std::string& path) : path_(path), tensors_(path) {
  auto map = std::make_shared<MappedFile>(path);
  const uint64_t size = map->size();
  Cursor in(map->data(), size, path);

  if (size < 4 || std::memcmp(map->data(), kMagic, 4) != 0) {
    std::string magic;
    for (uint64_t i = 0; i < std::min<uint64_t>(size, 4); ++i) {
      char c = char(map->data()[i]);
      magic += (c >= 32 && c < 127) ? c : '?';
    }
    fail_model("{}: not a GGUF file (magic '{}', expected 'GGUF')", path, magic);
  }
  in.skip(4, "magic");
  version_ = in.read<uint32_t>("version");
  if (version_ != kGgufVersion) {
    if ((version_ & 0xffff) == 0)
      fail_model("{}: GGUF version field reads {:#x}: a big-endian GGUF file, which is not supported", path,
                 version_);
    fail_model(
        "{}: GGUF version {} is not supported (this reader supports version {}); convert the model again "
        "with `bertctl convert`",
        path, version_, kGgufVersion);
  }
  uint64_t n_tensors = in.read<uint64_t>("tensor count");
  uint64_t n_kv = in.read<uint64_t>("key-value count");
  // Each key-value takes at least 13 bytes and each tensor entry at least 24: bound the counts
  // by the file before looping over them.
  if (n_kv > in.left() / 13 || n_tensors > in.left() / 24)
    fail_model(
        "{}: header claims {} key-values and {} tensors, more than a {}-byte file can hold; the file is "
        "corrupt",
        path, n_kv, n_tensors, size);

  std::unordered_set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    GgufKv kv;
    kv.key = in.read_string(fmt::format("key {}", i));
    if (kv.key.empty()) fail_model("{}: key {} is empty", path, i);
    if (!keys.insert(kv.key).second) fail_model("{}: key '{}' appears twice", path, kv.key);
    const std::string what = fmt::format("value of key '{}'", kv.key);
    uint32_t type = in.read<uint32_t>(what);
    kv.count = 1;
    if (type == uint32_t(GgufType::GGUF_TYPE_ARRAY)) {
      uint32_t elem = in.read<uint32_t>(what);
      if (!valid_scalar_type(elem))
        fail_model("{}: key '{}' is an array of unknown type {} (nested arrays are not supported)", path,
                   kv.key, elem);
      kv.type = GgufType::GGUF_TYPE_ARRAY;
      kv.elem_type = GgufType(elem);
      kv.count = in.read<uint64_t>(what);
    } else {
      if (!valid_scalar_type(type)) fail_model("{}: key '{}' has unknown value type {}", path, kv.key, type);
      kv.type = kv.elem_type = GgufType(type);
    }
    kv.value = map->data() + in.pos();
    if (size_t es = scalar_size(kv.elem_type)) {
      if (kv.count > in.left() / es)
        fail_model("{}: key '{}' has {} elements, more than the rest of the file holds", path, kv.key,
                   kv.count);
      in.skip(kv.count * es, what);
    } else {  // strings: each is checked on the way
      for (uint64_t j = 0; j < kv.count; ++j) in.read_string(what);
    }
    kvs_.push_back(std::move(kv));
  }

  if (const GgufKv* a = find("general.alignment")) {
    if (a->type != GgufType::GGUF_TYPE_UINT32)
      fail_model("{}: key 'general.alignment' is {}, expected u32", path, gguf_type_name(a->type));
    const unsigned char* p = a->value;
    alignment_ = take<uint32_t>(p);
    // The spec asks for a multiple of 8; a power of two keeps every offset computation exact.
    if (alignment_ < 8 || (alignment_ & (alignment_ - 1)) != 0)
      fail_model("{}: general.alignment {} is not a power of two of at least 8", path, alignment_);
  }

  struct Info {
    TensorData t;
    uint64_t offset;
  };
  std::vector<Info> infos;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Info info;
    TensorData& t = info.t;
    t.name = in.read_string(fmt::format("name of tensor {}", i));
    if (t.name.size() > kGgufMaxName)
      fail_model("{}: tensor name '{}' is longer than {} bytes", path, t.name, kGgufMaxName);
    const std::string what = fmt::format("directory entry of tensor '{}'", t.name);
    uint32_t n_dims = in.read<uint32_t>(what);
    if (n_dims > kGgufMaxDims)
      fail_model("{}: tensor '{}' has {} dimensions (at most {})", path, t.name, n_dims, kGgufMaxDims);
    for (uint32_t d = 0; d < n_dims; ++d) t.shape.push_back(in.read<int64_t>(what));
    std::reverse(t.shape.begin(), t.shape.end());  // ggml ne[0] innermost -> PyTorch order
    uint32_t type = in.read<uint32_t>(what);
    const GgmlType* gt = nullptr;
    for (const auto& g : kGgmlTypes)
      if (uint32_t(g.id) == type) gt = &g;
    if (!gt)
      fail_model(
          "{}: tensor '{}' has ggml type {}, which bertctl does not support (F32, F16, BF16, F64, I8, I16, "
          "I32, I64 only; quantized models are not supported)",
          path, t.name, type);
    t.dtype = gt->dtype;
    int64_t numel = checked_numel(t.shape, dtype_size(t.dtype));
    if (numel < 0) fail_model("{}: tensor '{}' has an invalid shape {}", path, t.name, shape_string(t.shape));
    t.nbytes = size_t(numel) * dtype_size(t.dtype);
    info.offset = in.read<uint64_t>(what);
    if (info.offset % alignment_ != 0)
      fail_model("{}: tensor '{}' data offset {} is not a multiple of the alignment {}", path, t.name,
                 info.offset, alignment_);
    infos.push_back(std::move(info));
  }

  uint64_t data_start = n_tensors ? align_up(in.pos(), alignment_) : in.pos();
  uint64_t data_size = data_start <= size ? size - data_start : 0;
  std::vector<ByteRange> ranges;
  for (auto& info : infos) {
    if (info.offset > data_size || info.t.nbytes > data_size - info.offset)
      fail_model(
          "{}: tensor '{}' data [{}, {}) lies beyond the end of the file ({} data bytes after offset {}); "
          "the file is truncated or corrupt",
          path, info.t.name, info.offset, info.offset + info.t.nbytes, data_size, data_start);
    ranges.push_back({info.offset, info.offset + info.t.nbytes, &info.t.name});
  }
  check_no_overlap(ranges, path);
  for (auto& info : infos) {
    info.t.data = map->data() + data_start + info.offset;
    tensors_.add(std::move(info.t));
  }
  tensors_.keep(std::move(map));
}

size_t GgufFile::verify_checksums(size_t max_bytes) const {
  const GgufKv* kv = find(kGgufChecksumKey);
  if (!kv) return 0;
  const auto& all = tensors_.tensors();
  if (kv->type != GgufType::GGUF_TYPE_ARRAY || kv->elem_type != GgufType::GGUF_TYPE_UINT64 || kv->count != all.size())
    fail_model("{}: {} must be an array of {} u64 checksums, one per tensor", path_, kGgufChecksumKey, all.size());
  const unsigned char* p = kv->value;
  size_t checked = 0;
  for (const TensorData& t : all) {
    const uint64_t want = take<uint64_t>(p);
    if (t.nbytes > max_bytes) continue;
    if (XXH3_64bits(t.data, t.nbytes) != want)
      fail_model("{}: tensor '{}' does not match its checksum: the file is corrupt (or was edited)", path_, t.name);
    ++checked;
  }
  return checked;
}

const GgufKv* GgufFile::find(std::string_view key) const {
  for (const auto& kv : kvs_)
    if (kv.key == key) return &kv;
  return nullptr;
}

const GgufKv& GgufFile::require(std::string_view key, GgufType type, bool array) const {
  const GgufKv* kv = find(key);
  if (!kv) fail_model("{}: key '{}' is missing", path_, key);
  bool is_array = kv->type == GgufType::GGUF_TYPE_ARRAY;
  if (is_array != array || kv->elem_type != type)
    fail_model("{}: key '{}' is {}{}, expected {}{}", path_, key, is_array ? "an array of " : "",
               gguf_type_name(kv->elem_type), array ? "an array of " : "", gguf_type_name(type));
  return *kv;
}

template <class T>
T GgufFile::get(std::string_view key) const {
  const unsigned char* p = require(key, GgufTypeOf<T>::value, false).value;
  return take<T>(p);
}

template <class T>
std::optional<T> GgufFile::get_optional(std::string_view key) const {
  if (!find(key)) return std::nullopt;
  return get<T>(key);
}

template <class T>
std::vector<T> GgufFile::get_array(std::string_view key) const {
  const GgufKv& kv = require(key, GgufTypeOf<T>::value, true);
  const unsigned char* p = kv.value;
  std::vector<T> out;
  out.reserve(size_t(kv.count));
  for (uint64_t i = 0; i < kv.count; ++i) out.push_back(take<T>(p));
  return out;
}

std::string GgufFile::format_value(const GgufKv& kv, size_t max_items) const {
  const unsigned char* p = kv.value;
  auto one = [&]() -> std::string {
    switch (kv.elem_type) {
      case GgufType::GGUF_TYPE_UINT8:
        return fmt::format("{}", take<uint8_t>(p));
      case GgufType::GGUF_TYPE_INT8:
        return fmt::format("{}", take<int8_t>(p));
      case GgufType::GGUF_TYPE_UINT16:
        return fmt::format("{}", take<uint16_t>(p));
      case GgufType::GGUF_TYPE_INT16:
        return fmt::format("{}", take<int16_t>(p));
      case GgufType::GGUF_TYPE_UINT32:
        return fmt::format("{}", take<uint32_t>(p));
      case GgufType::GGUF_TYPE_INT32:
        return fmt::format("{}", take<int32_t>(p));
      case GgufType::GGUF_TYPE_UINT64:
        return fmt::format("{}", take<uint64_t>(p));
      case GgufType::GGUF_TYPE_INT64:
        return fmt::format("{}", take<int64_t>(p));
      case GgufType::GGUF_TYPE_FLOAT32:
        return fmt::format("{}", take<float>(p));
      case GgufType::GGUF_TYPE_FLOAT64:
        return fmt::format("{}", take<double>(p));
      case GgufType::GGUF_TYPE_BOOL:
        return take<bool>(p) ? "true" : "false";
      case GgufType::GGUF_TYPE_STRING:
        return fmt::format("{:?}", take<std::string>(p));
      default:
        return "?";
    }
  };
  if (kv.type != GgufType::GGUF_TYPE_ARRAY) return one();
  std::string out = "[";
  for (uint64_t i = 0; i < kv.count && i < max_items; ++i) out += (i ? ", " : "") + one();
  if (kv.count > max_items) out += fmt::format(", ... ({} items)", kv.count);
  return out + "]";
}

#define BERT_GGUF_INSTANTIATE(T)                                               \
  template void GgufWriter::set<T>(std::string, const T&);                     \
  template void GgufWriter::set_array<T>(std::string, const std::vector<T>&);  \
  template T GgufFile::get<T>(std::string_view) const;                         \
  template std::optional<T> GgufFile::get_optional<T>(std::string_view) const; \
  template std::vector<T> GgufFile::get_array<T>(std::string_view) const;
BERT_GGUF_INSTANTIATE(uint8_t)
BERT_GGUF_INSTANTIATE(int8_t)
BERT_GGUF_INSTANTIATE(uint16_t)
BERT_GGUF_INSTANTIATE(int16_t)
BERT_GGUF_INSTANTIATE(uint32_t)
BERT_GGUF_INSTANTIATE(int32_t)
BERT_GGUF_INSTANTIATE(uint64_t)
BERT_GGUF_INSTANTIATE(int64_t)
BERT_GGUF_INSTANTIATE(float)
BERT_GGUF_INSTANTIATE(double)
BERT_GGUF_INSTANTIATE(bool)
BERT_GGUF_INSTANTIATE(std::string)
#undef BERT_GGUF_INSTANTIATE

}  // namespace bert::io
