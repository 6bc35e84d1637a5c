// The bounded JSON parser that every JSON reader goes through (config files, JSONL lines,
// checkpoint settings): any text parses or is refused, never overflows the stack.
#include <nlohmann/json.hpp>

#include "core/json.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j;
  bert::try_parse_json(std::string_view(reinterpret_cast<const char*>(data), size), j);
  return 0;
}
