// tokenizer.json (WordPiece) and vocab.txt: the first byte picks which file the rest is.
#include "fuzz_support.hpp"
#include "text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bert::fuzz::MemoryFile file(data + 1, size - 1);
  bert::fuzz::refuse_or_accept([&] {
    const bert::text::Tokenizer tok = data[0] & 1 ? bert::text::Tokenizer::from_tokenizer_json(file.path())
                                                  : bert::text::Tokenizer::from_vocab_txt(file.path());
    bert::text::Encoding e;
    tok.encode_into("Hello, world! [MASK] x", {}, e);
  });
  return 0;
}
