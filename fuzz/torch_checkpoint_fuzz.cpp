// pytorch_model.bin: a zip of data.pkl (a restricted pickle) and storages.
#include "fuzz_support.hpp"
#include "io/torch_checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bert::fuzz::MemoryFile file(data, size);
  bert::fuzz::refuse_or_accept([&] {
    const bert::io::TensorArchive ar = bert::io::read_torch_checkpoint(file.path());
    for (const auto& t : ar.tensors()) bert::fuzz::touch(t.data, t.nbytes);
  });
  return 0;
}
