// pytorch_model.bin: a state dict saved by `torch.save` in PyTorch's zip format (torch >= 1.6).
// The zip holds `<root>/data.pkl` (the pickled dict; the root folder's name varies by writer),
// one `<root>/data/<key>` entry per storage, and optionally `<root>/byteorder`. The pickle is read
// by the restricted unpickler (io/pickle.hpp): the only globals allowed are OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter and the storage types;
// any other stops the load before anything could run.
//
//   bert::io::TensorArchive ar = bert::io::read_torch_checkpoint("pytorch_model.bin");
//   const auto* w = ar.find("bert.embeddings.word_embeddings.weight");
//
// Each storage that a tensor uses is read out of the zip once, into a buffer the archive owns
// (libzip cannot map an entry; safetensors and GGUF, by contrast, are mapped). Tensors become
// contiguous views into their storage (tied weights share it); a tensor with strides that are not
// row-major, e.g. a saved transpose, is copied into a contiguous buffer of its own.
// Storages of dtype F32, F16, BF16, F64, I64, I32, I8, U8 and BOOL load; whether a dtype is
// acceptable for a weight is the caller's decision.
#pragma once
#include <string>

#include "io/tensor_archive.hpp"  // TensorArchive

namespace bert::io {

TensorArchive read_torch_checkpoint(const std::string& path);

}  // namespace bert::io
