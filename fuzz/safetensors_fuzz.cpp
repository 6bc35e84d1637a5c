// model.safetensors: an 8-byte header length, a JSON header, tensor data.
#include "fuzz_support.hpp"
#include "io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bert::fuzz::MemoryFile file(data, size);
  bert::fuzz::refuse_or_accept([&] {
    const bert::io::TensorArchive ar = bert::io::read_safetensors(file.path());
    for (const auto& t : ar.tensors()) bert::fuzz::touch(t.data, t.nbytes);
  });
  return 0;
}
