#include "text_input.hpp"

#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>  // JSONL input

#include "core/error.hpp"     // bert::Error
#include "core/json.hpp"      // try_parse_json (bounded nesting)
#include "text/utf8.hpp"      // utf8_find_invalid, utf8_replace_invalid
#include "train/dataset.hpp"  // DelimitedReader, resolve_column

namespace bertctl {

void add_text_input_options(CLI::App& app, TextInputOptions& o, bool tables, PairInput pairs) {
  app.add_option("inputs", o.inputs, "Input files, one text per line (default or -: standard input)");
  if (pairs == PairInput::PAIRS_OPTIONAL)
    app.add_flag("--pair", o.pair, "Each line holds two texts separated by a tab: [CLS] A [SEP] B [SEP]");
  if (pairs == PairInput::PAIRS_ALWAYS) {
    o.pair = true;
    app.add_option("--input-format", o.input_format,
                   "Input: text (the two texts of a line separated by a tab), jsonl, csv/tsv (a header line, "
                   "then one record per line), or squad (SQuAD JSON files)")
        ->check(CLI::IsMember({"text", "jsonl", "csv", "tsv", "squad"}))
        ->capture_default_str();
    app.add_option("--text-field,--text-column", o.text_field,
                   "jsonl: field holding the first text; csv/tsv: its column (header name or 0-based index)")
        ->capture_default_str();
    app.add_option("--pair-field,--pair-column", o.pair_field, "jsonl, csv or tsv: field or column of the second text")
        ->capture_default_str();
  } else if (tables) {
    app.add_option("--input-format", o.input_format,
                   "Input: text (one text per line), jsonl, or csv/tsv (a header line, then one record per line)")
        ->check(CLI::IsMember({"text", "jsonl", "csv", "tsv"}))
        ->capture_default_str();
    app.add_option("--text-field,--text-column", o.text_field,
                   "jsonl: field holding the text; csv/tsv: its column (header name or 0-based index)")
        ->capture_default_str();
    if (pairs == PairInput::PAIRS_OPTIONAL)
      app.add_option("--pair-field,--pair-column", o.pair_field, "With --pair: field or column holding the second text")
          ->capture_default_str();
  } else {
    app.add_option("--input-format", o.input_format, "Input: text (one text per line) or jsonl")
        ->check(CLI::IsMember({"text", "jsonl"}))
        ->capture_default_str();
    app.add_option("--text-field", o.text_field, "jsonl input: field holding the text")->capture_default_str();
    if (pairs == PairInput::PAIRS_OPTIONAL)
      app.add_option("--pair-field", o.pair_field, "jsonl input with --pair: field holding the second text")
          ->capture_default_str();
  }
  app.add_option("--on-error", o.on_error, "Invalid UTF-8: fail (exit 1) or replace bad bytes with U+FFFD")
      ->check(CLI::IsMember({"fail", "replace"}))
      ->capture_default_str();
  app.add_option("--max-line-bytes", o.max_line_bytes,
                 "Longer input lines are cut to N bytes with a warning (text) or refused (jsonl, csv, tsv)")
      ->type_name("N")
      ->check(CLI::Range(size_t(64), size_t(1) << 40))
      ->capture_default_str();
}

std::string read_batch_line_texts(const TextInputOptions& o, const bert::LineBatch& lines, size_t i, LineTexts& out,
                                  const TableColumns* columns) {
  if (o.input_format != "text" && lines.was_cut(i))
    return fmt::format("the line is longer than --max-line-bytes ({} bytes); raise it to read this record",
                       o.max_line_bytes);
  return read_line_texts(o, lines.line(i), out, columns, lines.source);
}

void report_cut_lines(const char* command, const bert::LineReader& reader) {
  if (reader.cut_lines() == 0) return;
  std::fprintf(stderr, "bertctl: %s: warning: %llu line(s) longer than --max-line-bytes (%zu bytes) were cut to that "
               "length (the first: %s)\n", command, static_cast<unsigned long long>(reader.cut_lines()),
               reader.max_line_bytes(), reader.first_cut().c_str());
}

bool is_table(const TextInputOptions& o) { return o.input_format == "csv" || o.input_format == "tsv"; }

namespace {

char delimiter(const TextInputOptions& o) { return o.input_format == "tsv" ? '\t' : ','; }

}  // namespace

void TableColumns::read_header(const TextInputOptions& o, const std::string& source, std::string_view line) {
  std::vector<std::string> header;
  bert::train::DelimitedReader(line, delimiter(o), source).next(header);
  const int text = bert::train::resolve_column(o.text_field, header, source, "--text-column");
  const int pair = o.pair ? bert::train::resolve_column(o.pair_field, header, source, "--pair-column") : -1;
  std::lock_guard lock(mutex_);
  columns_[source] = {text, pair};
}

std::pair<int, int> TableColumns::of(const std::string& source) const {
  std::lock_guard lock(mutex_);
  const auto it = columns_.find(source);
  return it == columns_.end() ? std::pair{0, -1} : it->second;
}

std::string read_line_texts(const TextInputOptions& o, std::string_view line, LineTexts& out,
                            const TableColumns* columns, const std::string& source) {
  if (size_t bad = bert::text::utf8_find_invalid(line); bad != std::string_view::npos) {
    if (o.on_error != "replace") return fmt::format("invalid UTF-8 at byte {}", bad);
    bert::text::utf8_replace_invalid(line, out.repaired);
    line = out.repaired;
  }
  out.a = line;
  out.b = std::string_view();
  if (is_table(o)) {
    out.a = std::string_view();
    std::vector<std::string> fields;
    try {
      if (!bert::train::DelimitedReader(line, delimiter(o), source).next(fields)) return "";  // an empty record
    } catch (const bert::Error&) {
      return "a quoted field is not closed on its line (records must be one line each here)";
    }
    const auto [text, pair] = columns ? columns->of(source) : std::pair{0, -1};
    for (const auto& [index, storage, view] :
         {std::tuple{text, &out.storage_a, &out.a}, std::tuple{pair, &out.storage_b, &out.b}}) {
      if (index < 0) continue;
      if (size_t(index) >= fields.size())
        return fmt::format("this record has {} field(s); no column {}", fields.size(), index);
      *storage = fields[size_t(index)];
      *view = *storage;
    }
    return "";
  }
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
  if (std::string err = bert::try_parse_json(line, j); !err.empty()) return "invalid JSON: " + err;
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
