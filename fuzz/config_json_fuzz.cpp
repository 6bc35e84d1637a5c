// config.json through the bounded JSON parser and the configuration checks.
#include "fuzz_support.hpp"
#include "model/bert_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  bert::fuzz::refuse_or_accept([&] { bert::model::parse_hf_config(text, "config.json"); });
  return 0;
}
