// GGUF v3: our model file (spec: the header comment of llama.cpp's ggml/include/gguf.h).
// Layout, all little-endian: "GGUF", u32 version 3, u64 tensor count, u64 key-value count; the
// key-values (string key, u32 type, value; arrays are u32 element type, u64 count, elements);
// the tensor directory (string name, u32 n_dims, i64 ne[n_dims] with ne[0] the innermost
// dimension, u32 ggml type, u64 offset); zero padding to `general.alignment`; the data, each
// tensor starting at an aligned offset and padded to the alignment.
//
// Shapes in this API are in PyTorch order (outermost first); the file stores them reversed, as
// ggml does, so other GGUF readers see the usual ne[0] = row length.
//
//   GgufWriter w(64);                                    // general.alignment = 64
//   w.set<uint32_t>("bert.block_count", 12);
//   w.set("general.architecture", "bert");
//   w.set_array<std::string>("tokenizer.ggml.tokens", vocab);
//   w.add_tensor(weights_view);                          // bytes are read by write(): keep them alive
//   w.write("model.gguf");                               // atomic; same input, same bytes
//
//   GgufFile f("model.gguf");                            // mapped and validated
//   uint32_t layers = f.get<uint32_t>("bert.block_count");       // or f.get_u32(...)
//   auto vocab = f.get_array<std::string>("tokenizer.ggml.tokens");
//   const TensorData* w = f.tensors().find("bert.pooler.dense.weight");  // a view into the map
#pragma once
#include <cstdint>
#include <memory>  // shared_ptr
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/tensor_archive.hpp"  // TensorArchive, TensorData, DType

namespace bert::io {

constexpr uint32_t kGgufVersion = 3;
constexpr uint32_t kGgufDefaultAlignment = 32;
constexpr size_t kGgufMaxName = 63;  // ggml's GGML_MAX_NAME (64) minus the terminator
constexpr size_t kGgufMaxDims = 4;   // GGML_MAX_DIMS
// GGUF has no checksum of its own: the writer stores one XXH3-64 per tensor, in directory order,
// under this key, and GgufFile::verify_checksums() compares them.
constexpr const char* kGgufChecksumKey = "bertctl.checksum.xxh3_64";

enum class GgufType : uint32_t {
  GGUF_TYPE_UINT8 = 0,
  GGUF_TYPE_INT8 = 1,
  GGUF_TYPE_UINT16 = 2,
  GGUF_TYPE_INT16 = 3,
  GGUF_TYPE_UINT32 = 4,
  GGUF_TYPE_INT32 = 5,
  GGUF_TYPE_FLOAT32 = 6,
  GGUF_TYPE_BOOL = 7,
  GGUF_TYPE_STRING = 8,
  GGUF_TYPE_ARRAY = 9,
  GGUF_TYPE_UINT64 = 10,
  GGUF_TYPE_INT64 = 11,
  GGUF_TYPE_FLOAT64 = 12,
};
const char* gguf_type_name(GgufType type);  // "u8", "i32", "f32", "bool", "string", "array", ...

// ggml tensor type ids for the dtypes we store; -1 for a dtype ggml has no type for (U8, BOOL).
int ggml_type_of(DType dtype);

// The GgufType of a C++ value type: uint8_t..int64_t, float, double, bool, std::string.
template <class T>
struct GgufTypeOf;
#define BERT_GGUF_TYPE_OF(T, V)                    \
  template <>                                      \
  struct GgufTypeOf<T> {                           \
    static constexpr GgufType value = GgufType::V; \
  };
BERT_GGUF_TYPE_OF(uint8_t, GGUF_TYPE_UINT8)
BERT_GGUF_TYPE_OF(int8_t, GGUF_TYPE_INT8)
BERT_GGUF_TYPE_OF(uint16_t, GGUF_TYPE_UINT16)
BERT_GGUF_TYPE_OF(int16_t, GGUF_TYPE_INT16)
BERT_GGUF_TYPE_OF(uint32_t, GGUF_TYPE_UINT32)
BERT_GGUF_TYPE_OF(int32_t, GGUF_TYPE_INT32)
BERT_GGUF_TYPE_OF(uint64_t, GGUF_TYPE_UINT64)
BERT_GGUF_TYPE_OF(int64_t, GGUF_TYPE_INT64)
BERT_GGUF_TYPE_OF(float, GGUF_TYPE_FLOAT32)
BERT_GGUF_TYPE_OF(double, GGUF_TYPE_FLOAT64)
BERT_GGUF_TYPE_OF(bool, GGUF_TYPE_BOOL)
BERT_GGUF_TYPE_OF(std::string, GGUF_TYPE_STRING)
#undef BERT_GGUF_TYPE_OF

class GgufWriter {
 public:
  // Stores `general.alignment` (u32) as the first key. A power of two.
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Keys are written in the order they are set; setting a key twice is a bug (ERROR_INTERNAL).
  // T is one of the GgufTypeOf types; set(key, "text") stores a string.
  template <class T>
  requires requires { GgufTypeOf<T>::value; }
  void set(std::string key, const T& value);
  void set(std::string key, std::string_view value) { set<std::string>(std::move(key), std::string(value)); }
  template <class T>
  void set_array(std::string key, const std::vector<T>& values);

  // Tensors are written in the order they are added. Refuses (ERROR_MODEL) names longer than
  // kGgufMaxName bytes, more than kGgufMaxDims dimensions, dtypes without a ggml type, and a
  // name given twice. The bytes are only read by write().
  void add_tensor(const TensorData& tensor);

  void write(const std::string& path) const;

 private:
  struct Kv {
    std::string key;
    std::string encoded;  // u32 type, then the value
  };
  void add_kv(std::string key, std::string encoded);

  uint32_t alignment_;
  std::vector<Kv> kvs_;
  std::vector<TensorData> tensors_;
};

// One key-value of a file being read: the value's bytes stay in the map.
struct GgufKv {
  std::string key;
  GgufType type;               // GGUF_TYPE_ARRAY for arrays
  GgufType elem_type;          // arrays: the element type; otherwise == type
  uint64_t count;              // arrays: number of elements; otherwise 1
  const unsigned char* value;  // the value (arrays: the first element), inside the map
};

class GgufFile {
 public:
  // Maps and validates the whole file (header, every key, the tensor directory and that every
  // tensor lies inside the file at an aligned offset). Throws ERROR_MODEL naming the file.
  explicit GgufFile(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }

  // Every key, in file order (for `bertctl info`).
  const std::vector<GgufKv>& kvs() const { return kvs_; }
  const GgufKv* find(std::string_view key) const;  // nullptr when absent

  // Typed access: throws ERROR_MODEL naming the key when it is absent or has another type
  // ("model.gguf: key 'bert.block_count' is i32, expected u32").
  template <class T>
  T get(std::string_view key) const;
  template <class T>
  std::optional<T> get_optional(std::string_view key) const;  // nullopt when absent
  template <class T>
  std::vector<T> get_array(std::string_view key) const;

  uint32_t get_u32(std::string_view key) const { return get<uint32_t>(key); }
  float get_f32(std::string_view key) const { return get<float>(key); }
  bool get_bool(std::string_view key) const { return get<bool>(key); }
  std::string get_string(std::string_view key) const { return get<std::string>(key); }
  std::vector<std::string> get_string_array(std::string_view key) const {
    return get_array<std::string>(key);
  }

  // A short rendering of a value: 12, 1e-12, true, "bert", [101, 102, ... (30522 items)].
  std::string format_value(const GgufKv& kv, size_t max_items = 8) const;

  // The tensors, as views into the map (shapes in PyTorch order).
  const TensorArchive& tensors() const { return tensors_; }

  // Whether the file has per-tensor checksums (files of bertctl before 0.x have none).
  bool has_checksums() const { return find(kGgufChecksumKey) != nullptr; }
  // Hashes the bytes of every tensor of at most max_bytes and compares them with the stored
  // checksums; throws ERROR_MODEL naming the first tensor that differs. Returns the number of
  // tensors checked (0: no checksums). All of BERT-base takes ~65 ms (AVX2 EPYC), half a warm
  // start: loading checks the small tensors (biases, norms, heads) always and everything only
  // where it copies every weight anyway (conversion, training).
  size_t verify_checksums(size_t max_bytes = SIZE_MAX) const;

 private:
  const GgufKv& require(std::string_view key, GgufType type, bool array) const;

  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  std::vector<GgufKv> kvs_;
  TensorArchive tensors_;
};

}  // namespace bert::io
