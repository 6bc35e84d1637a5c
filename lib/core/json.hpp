// JSON from files a user hands us (config.json, safetensors headers, tokenizer files, checkpoint
// settings, JSONL lines), parsed with a bound on nesting: a 200 KB header of 100,000 '[' would
// otherwise overflow the stack tearing the document down (or printing it in a message).
//
//   nlohmann::json j = bert::parse_json(text, "config.json");   // throws bert::Error(ERROR_INPUT)
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bert {

// Deeper than any file we read needs (safetensors and config.json: 3; tokenizer.json: 6).
constexpr int kMaxJsonDepth = 64;

// Parses `text`; a syntax error or nesting deeper than kMaxJsonDepth is an ERROR_INPUT naming
// `source` (the message quotes no part of the document).
nlohmann::json parse_json(std::string_view text, const std::string& source);

// The same, returning what is wrong ("" when fine; the caller says "invalid JSON: " and where).
std::string try_parse_json(std::string_view text, nlohmann::json& out);

}  // namespace bert
