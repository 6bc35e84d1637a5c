// Text lines through the tokenizer, as the commands give them: invalid UTF-8 is refused first.
#include <cstdlib>

#include "fuzz_support.hpp"
#include "text/tokenizer.hpp"
#include "text/utf8.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bert::text::Tokenizer tok = [] {
    const char* vocab = std::getenv("BERTCTL_FUZZ_VOCAB");
    return bert::text::Tokenizer::from_vocab_txt(vocab ? vocab : BERTCTL_SOURCE_DIR "/vocab/example-vocab.txt");
  }();
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  if (bert::text::utf8_find_invalid(line) != std::string_view::npos) return 0;
  bert::text::Encoding e;
  bert::text::EncodeOptions o;
  o.max_length = size % 2 ? 16 : 0;
  bert::fuzz::refuse_or_accept([&] { tok.encode_into(line, o, e); });
  return 0;
}
