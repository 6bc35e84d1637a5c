#include "core/json.hpp"

#include <fmt/format.h>

#include "core/error.hpp"  // fail_input

namespace bert {

namespace {

struct TooDeep {};

}  // namespace

std::string try_parse_json(std::string_view text, nlohmann::json& out) {
  // The callback sees every value as it starts; refusing past the bound stops the parse before the
  // document gets deep (nlohmann's parser itself keeps its stack on the heap).
  auto bounded = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth >= kMaxJsonDepth) throw TooDeep{};  // depth counts from 0: kMaxJsonDepth levels pass
    return true;
  };
  try {
    out = nlohmann::json::parse(text.begin(), text.end(), bounded);
  } catch (const TooDeep&) {
    return fmt::format("nested deeper than {} levels", kMaxJsonDepth);
  } catch (const nlohmann::json::exception& e) {
    return e.what();
  }
  return "";
}

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  nlohmann::json j;
  if (std::string err = try_parse_json(text, j); !err.empty()) fail_input("{}: invalid JSON: {}", source, err);
  return j;
}

}  // namespace bert
