#include <doctest/doctest.h>

#include <string>

#include "core/error.hpp"
#include "core/json.hpp"

TEST_CASE("JSON nesting is bounded; documents within the bound parse") {
  nlohmann::json j;
  const auto nested = [](int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); };
  CHECK(bert::try_parse_json(nested(bert::kMaxJsonDepth), j) == "");
  CHECK(j.is_array());
  CHECK(bert::try_parse_json(nested(bert::kMaxJsonDepth + 1), j) == "nested deeper than 64 levels");
  CHECK(bert::try_parse_json(nested(1000000), j) == "nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  CHECK(bert::try_parse_json(objects, j) == "nested deeper than 64 levels");
  CHECK(bert::try_parse_json("{\"a\": 1,}", j).find("parse error") != std::string::npos);
  std::string message;
  try {
    bert::parse_json(nested(100000), "deep.json");
  } catch (const bert::Error& e) {
    message = e.what();
  }
  CHECK(message == "deep.json: invalid JSON: nested deeper than 64 levels");
}
