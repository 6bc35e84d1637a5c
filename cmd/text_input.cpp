#include "text_input.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>  // JSONL input

#include "text/utf8.hpp"  // utf8_find_invalid, utf8_replace_invalid

namespace bertctl {

void add_text_input_options(CLI::App& app, TextInputOptions& o) {
  app.add_option("inputs", o.inputs, "Input files, one text per line (default or -: standard input)");
  app.add_flag("--pair", o.pair, "Each line holds two texts separated by a tab: [CLS] A [SEP] B [SEP]");
  app.add_option("--input-format", o.input_format, "Input: text (one text per line) or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->capture_default_str();
  app.add_option("--text-field", o.text_field, "jsonl input: field holding the text")->capture_default_str();
  app.add_option("--pair-field", o.pair_field, "jsonl input with --pair: field holding the second text")
      ->capture_default_str();
  app.add_option("--on-error", o.on_error, "Invalid UTF-8: fail (exit 1) or replace bad bytes with U+FFFD")
      ->check(CLI::IsMember({"fail", "replace"}))
      ->capture_default_str();
}

std::string read_line_texts(const TextInputOptions& o, std::string_view line, LineTexts& out) {
  if (size_t bad = bert::text::utf8_find_invalid(line); bad != std::string_view::npos) {
    if (o.on_error != "replace") return fmt::format("invalid UTF-8 at byte {}", bad);
    bert::text::utf8_replace_invalid(line, out.repaired);
    line = out.repaired;
  }
  out.a = line;
  out.b = std::string_view();
  if (o.input_format == "text") {
    if (!o.pair) return "";
    size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      if (!line.empty()) return "expected two texts separated by a tab (--pair)";
      return "";  // an empty line is an empty pair
    }
    out.a = line.substr(0, tab);
    out.b = line.substr(tab + 1);
    return "";
  }
  // jsonl: an empty line is an empty record.
  out.a = std::string_view();
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return "";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return fmt::format("invalid JSON: {}", e.what());
  }
  auto field = [&](const std::string& name, std::string& storage, std::string_view& view) -> std::string {
    if (!j.is_object() || !j.contains(name) || !j[name].is_string())
      return fmt::format("no string field \"{}\" in this JSON line", name);
    storage = j[name].get<std::string>();
    view = storage;
    return "";
  };
  if (std::string err = field(o.text_field, out.storage_a, out.a); !err.empty()) return err;
  if (o.pair) return field(o.pair_field, out.storage_b, out.b);
  return "";
}

}  // namespace bertctl
