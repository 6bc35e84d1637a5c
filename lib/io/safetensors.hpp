// safetensors: Hugging Face's plain tensor file. Layout: an 8-byte little-endian header length N,
// N bytes of JSON ({"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}}),
// then the raw data; offsets are relative to the end of the header.
//
//   auto ar = bert::io::read_safetensors("model.safetensors");            // mapped, not copied
//   auto all = bert::io::read_safetensors_index("model.safetensors.index.json");  // sharded
//   bert::io::write_safetensors("out.safetensors", ar.tensors(), {{"format", "pt"}});
//
// The reader validates everything before handing out a view (header length, JSON, every entry's
// dtype, shape and offsets, overlaps) and throws ERROR_MODEL naming the file and the problem.
#pragma once
#include <map>
#include <span>
#include <string>

#include "io/tensor_archive.hpp"  // TensorArchive, TensorData

namespace bert::io {

// A header larger than this is refused as corrupt (the Rust safetensors crate uses 100 MB too).
constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

TensorArchive read_safetensors(const std::string& path);

// model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}. Reads
// every shard named there (in the same directory) into one archive; each tensor the weight map
// lists must be in its shard, and no tensor may be in two shards.
TensorArchive read_safetensors_index(const std::string& index_path);

// Writes the byte layout the `safetensors` library writes: tensors sorted by dtype (wider first,
// as its Rust core orders them) then name, data packed in that order, header JSON compact and
// padded with spaces to a multiple of 8, `__metadata__` first (omitted when empty). Atomic:
// the file appears only when complete.
void write_safetensors(const std::string& path, std::span<const TensorData> tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace bert::io
