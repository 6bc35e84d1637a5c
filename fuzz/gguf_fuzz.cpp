// GGUF model files: header, key-values, tensor directory, data; then the checksums and every value.
#include "fuzz_support.hpp"
#include "io/gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bert::fuzz::MemoryFile file(data, size);
  bert::fuzz::refuse_or_accept([&] {
    const bert::io::GgufFile f(file.path());
    for (const auto& kv : f.kvs())
      if (kv.elem_type == bert::io::GgufType::GGUF_TYPE_STRING)
        kv.type == bert::io::GgufType::GGUF_TYPE_ARRAY ? (void)f.get_string_array(kv.key) : (void)f.get_string(kv.key);
    for (const auto& t : f.tensors().tensors()) bert::fuzz::touch(t.data, t.nbytes);
    f.verify_checksums();
  });
  return 0;
}
