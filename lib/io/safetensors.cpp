#include "io/safetensors.hpp"

#include <algorithm>   // sort
#include <filesystem>  // path (shards beside the index)
#include <memory>      // make_shared

#include <nlohmann/json.hpp>  // header JSON

#include "core/error.hpp"  // fail_model
#include "core/file.hpp"   // MappedFile, AtomicFile, read_file
#include "core/json.hpp"   // try_parse_json (bounded nesting)

namespace bert::io {

using nlohmann::json;

namespace {

struct DTypeName {
  const char* name;
  DType dtype;
};
constexpr DTypeName kDTypes[] = {
    {"F32", DType::DTYPE_F32},   {"F16", DType::DTYPE_F16}, {"BF16", DType::DTYPE_BF16},
    {"F64", DType::DTYPE_F64},   {"I8", DType::DTYPE_I8},   {"I16", DType::DTYPE_I16},
    {"I32", DType::DTYPE_I32},   {"I64", DType::DTYPE_I64}, {"U8", DType::DTYPE_U8},
    {"BOOL", DType::DTYPE_BOOL},
};

// Rank in the Rust crate's Dtype enum (BOOL < U8 < I8 < ... < F64 < I64), which orders the data.
int rust_dtype_rank(DType d) {
  switch (d) {
    case DType::DTYPE_BOOL:
      return 0;
    case DType::DTYPE_U8:
      return 1;
    case DType::DTYPE_I8:
      return 2;
    case DType::DTYPE_I16:
      return 5;
    case DType::DTYPE_F16:
      return 7;
    case DType::DTYPE_BF16:
      return 8;
    case DType::DTYPE_I32:
      return 9;
    case DType::DTYPE_F32:
      return 11;
    case DType::DTYPE_F64:
      return 12;
    case DType::DTYPE_I64:
      return 13;
  }
  return 0;
}

// A JSON value for a message, cut short if long (a corrupt header may hold anything).
std::string short_dump(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One header entry, checked: `dtype`, `shape`, `data_offsets` in [0, data_size].
struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& path, const std::string& name, const json& v, uint64_t data_size) {
  if (!v.is_object()) fail_model("{}: header entry for tensor '{}' is not an object", path, name);
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!v.contains(field)) fail_model("{}: tensor '{}' has no '{}' in the header", path, name, field);
  Entry e{name, DType::DTYPE_F32, {}, 0, 0};

  const json& dt = v["dtype"];
  if (!dt.is_string()) fail_model("{}: tensor '{}' has a 'dtype' that is not a string", path, name);
  const std::string& dts = dt.get_ref<const std::string&>();
  auto it =
      std::find_if(std::begin(kDTypes), std::end(kDTypes), [&](const DTypeName& d) { return dts == d.name; });
  if (it == std::end(kDTypes))
    fail_model(
        "{}: tensor '{}' has unsupported dtype '{}' (supported: F32, F16, BF16, F64, I64, I32, I16, I8, "
        "U8, BOOL)",
        path, name, dts);
  e.dtype = it->dtype;

  const json& sh = v["shape"];
  if (!sh.is_array()) fail_model("{}: tensor '{}' has a 'shape' that is not an array", path, name);
  for (const json& d : sh) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t(INT64_MAX))
      fail_model("{}: tensor '{}' has shape {} with a dimension that is not a non-negative integer", path,
                 name, short_dump(sh));
    e.shape.push_back(int64_t(d.get<uint64_t>()));
  }
  int64_t numel = checked_numel(e.shape, dtype_size(e.dtype));
  if (numel < 0) fail_model("{}: tensor '{}' has shape {} whose size overflows", path, name, short_dump(sh));

  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    fail_model("{}: tensor '{}' has data_offsets {} (expected [begin, end] with non-negative integers)", path,
               name, short_dump(off));
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.begin > e.end)
    fail_model("{}: tensor '{}' data_offsets [{}, {}] begin after end", path, name, e.begin, e.end);
  if (e.end > data_size)
    fail_model("{}: tensor '{}' data_offsets [{}, {}] beyond the end of the data ({} bytes)", path, name,
               e.begin, e.end, data_size);
  uint64_t want = uint64_t(numel) * dtype_size(e.dtype);
  if (e.end - e.begin != want)
    fail_model("{}: tensor '{}' data_offsets [{}, {}] hold {} bytes, but {} {} needs {}", path, name, e.begin,
               e.end, e.end - e.begin, dts, shape_string(e.shape), want);
  return e;
}

}  // namespace

TensorArchive read_safetensors(const std::string& path) {
  auto map = std::make_shared<MappedFile>(path);
  const unsigned char* bytes = map->data();
  const uint64_t size = map->size();
  TensorArchive ar(path);

  if (size < 8)
    fail_model("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", path, size);
  uint64_t n = read_u64_le(bytes);
  if (n > kSafetensorsMaxHeader)
    fail_model("{}: header length {} is absurd (more than {} bytes); the file is corrupt or not safetensors",
               path, n, kSafetensorsMaxHeader);
  if (n > size - 8)
    fail_model(
        "{}: header length {} is beyond the end of the file ({} bytes); the file is truncated or corrupt",
        path, n, size);
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  if (n == 0 || text[0] != '{') fail_model("{}: header is not a JSON object (it must start with '{{')", path);

  json header;
  if (std::string err = try_parse_json(std::string_view(text, n), header); !err.empty())
    fail_model("{}: header is not valid JSON: {}", path, err);
  if (!header.is_object()) fail_model("{}: header is not a JSON object", path);

  const uint64_t data_start = 8 + n;
  const uint64_t data_size = size - data_start;
  std::vector<Entry> entries;
  for (auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail_model("{}: __metadata__ is not an object", path);
      for (auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail_model("{}: __metadata__ value for '{}' is not a string", path, mk);
        ar.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value, data_size));
  }

  std::vector<ByteRange> ranges;
  for (const auto& e : entries) ranges.push_back({e.begin, e.end, &e.name});
  check_no_overlap(ranges, path);

  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.name < b.name;
  });
  for (auto& e : entries) {
    ar.add({std::move(e.name), e.dtype, std::move(e.shape), bytes + data_start + e.begin, e.end - e.begin});
  }
  ar.keep(std::move(map));
  return ar;
}

TensorArchive read_safetensors_index(const std::string& index_path) {
  json index;
  if (std::string err = try_parse_json(read_file(index_path), index); !err.empty())
    fail_model("{}: not valid JSON: {}", index_path, err);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail_model("{}: no 'weight_map' object (expected a model.safetensors.index.json)", index_path);
  const json& weight_map = index["weight_map"];

  std::map<std::string, std::vector<std::string>> shards;  // shard file -> tensors it must hold
  for (auto& [tensor, shard] : weight_map.items()) {
    if (!shard.is_string())
      fail_model("{}: weight_map entry for '{}' is not a file name", index_path, tensor);
    const std::string& file = shard.get_ref<const std::string&>();
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
      fail_model("{}: weight_map entry for '{}' names '{}', which is not a file in the same folder",
                 index_path, tensor, file);
    shards[file].push_back(tensor);
  }

  std::filesystem::path dir = std::filesystem::path(index_path).parent_path();
  TensorArchive all(index_path);
  for (auto& [file, names] : shards) {
    TensorArchive shard = read_safetensors((dir / file).string());
    for (const auto& name : names)
      if (!shard.find(name))
        fail_model("{}: tensor '{}' is listed in {} but {} does not contain it", shard.source, name,
                   index_path, file);
    for (auto& [k, v] : shard.metadata) all.metadata.emplace(k, v);
    all.absorb(std::move(shard));
  }
  return all;
}

void write_safetensors(const std::string& path, std::span<const TensorData> tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorData*> order;
  for (const auto& t : tensors) {
    int64_t numel = checked_numel(t.shape, dtype_size(t.dtype));
    BERT_CHECK(numel >= 0 && uint64_t(numel) * dtype_size(t.dtype) == t.nbytes);
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const TensorData* a, const TensorData* b) {
    int ra = rust_dtype_rank(a->dtype), rb = rust_dtype_rank(b->dtype);
    return ra != rb ? ra > rb : a->name < b->name;
  });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->name == order[i - 1]->name) fail_model("{}: tensor '{}' given twice", path, order[i]->name);

  // The header, as serde_json writes it: compact, keys in this order.
  auto quoted = [&](const std::string& s) {
    try {
      return json(s).dump();
    } catch (const json::exception&) {
      fail_model("{}: name '{}' is not valid UTF-8", path, s);
    }
  };
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) header += ',';
      first = false;
      header += quoted(k) + ":" + quoted(v);
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const TensorData* t : order) {
    if (header.size() > 1) header += ',';
    header += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", quoted(t->name),
                          dtype_name(t->dtype), fmt::join(t->shape, ","), offset, offset + t->nbytes);
    offset += t->nbytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFile out(path);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = (uint64_t(header.size()) >> (8 * i)) & 0xff;
  out.write(len, 8);
  out.write(header);
  for (const TensorData* t : order) out.write(t->data, t->nbytes);
  out.commit();
}

}  // namespace bert::io
