#include "train/dataset.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>  // JSON Lines

#include "core/error.hpp"  // fail_input
#include "core/json.hpp"   // parse_json (bounded nesting)
#include "core/file.hpp"   // read_file
#include "text/utf8.hpp"   // utf8_find_invalid

namespace bert::train {

DelimitedReader::DelimitedReader(std::string_view data, char delimiter, std::string source)
    : data_(data), delimiter_(delimiter), source_(std::move(source)) {
  if (data_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // a UTF-8 byte-order mark is not data
}

bool DelimitedReader::next(std::vector<std::string>& fields) {
  fields.clear();
  if (pos_ >= data_.size()) return false;
  record_line_ = line_;
  std::string field;
  bool quoted = false, was_quoted = false;
  while (pos_ < data_.size()) {
    const char ch = data_[pos_++];
    if (quoted) {
      if (ch == '"') {
        if (pos_ < data_.size() && data_[pos_] == '"') {
          field.push_back('"');  // "" inside quotes is one quote
          ++pos_;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line_;
        field.push_back(ch);
      }
      continue;
    }
    if (ch == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (ch == delimiter_) {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && pos_ < data_.size() && data_[pos_] == '\n') ++pos_;
      ++line_;
      fields.push_back(std::move(field));
      return true;
    } else {
      field.push_back(ch);  // like Python's csv: a stray quote inside a field is kept
    }
  }
  if (quoted) fail_input("{}: line {}: a quoted field is never closed", source_, record_line_);
  fields.push_back(std::move(field));
  return true;
}

namespace {

DatasetFormat detect_format(const std::string& path, DatasetFormat f) {
  if (f != DatasetFormat::FORMAT_AUTO) return f;
  auto ends = [&](const char* ext) { return path.size() >= std::string(ext).size() && path.ends_with(ext); };
  if (ends(".tsv") || ends(".tab")) return DatasetFormat::FORMAT_TSV;
  if (ends(".jsonl") || ends(".json") || ends(".ndjson")) return DatasetFormat::FORMAT_JSONL;
  return DatasetFormat::FORMAT_CSV;
}


void add_row(Dataset& d, const DatasetSpec& spec, Example e, uint64_t line) {
  std::string problem;
  if (e.text.empty())
    problem = "the text is missing";
  else if (!spec.pair_column.empty() && e.text_pair.empty())
    problem = "the second text is missing";
  else if (e.label.empty())
    problem = "the label is missing";
  for (const std::string* s : {&e.text, &e.text_pair, &e.label})
    if (problem.empty() && text::utf8_find_invalid(*s) != std::string_view::npos) problem = "invalid UTF-8";
  if (problem.empty()) {
    d.rows.push_back(std::move(e));
    return;
  }
  const std::string where = fmt::format("{}: row {} (line {}): {}", d.source, e.row, line, problem);
  if (!spec.skip_bad_rows) fail_input("{} (use --on-error skip to skip such rows)", where);
  ++d.skipped;
  if (d.skipped_reasons.size() < 3) d.skipped_reasons.push_back(where);
}

void read_delimited(Dataset& d, const std::string& data, char delimiter, const DatasetSpec& spec) {
  DelimitedReader reader(data, delimiter, d.source);
  std::vector<std::string> header, fields;
  if (!reader.next(header)) fail_input("{}: empty file (expected a header row)", d.source);
  uint64_t row = 0;
  std::vector<std::string> first_row;
  if (spec.no_header) {  // the first record is a row; columns are named by their indices
    first_row = header;
    for (size_t i = 0; i < header.size(); ++i) header[i] = std::to_string(i);
  }
  const int text = resolve_column(spec.text_column, header, d.source, "--text-column");
  const int label = resolve_column(spec.label_column, header, d.source, "--label-column");
  const int pair = spec.pair_column.empty() ? -1 : resolve_column(spec.pair_column, header, d.source, "--text-pair-column");
  auto cell = [](const std::vector<std::string>& f, int i) {
    return i >= 0 && size_t(i) < f.size() ? f[size_t(i)] : std::string();
  };
  if (spec.no_header) add_row(d, spec, Example{cell(first_row, text), cell(first_row, pair), cell(first_row, label), ++row}, 1);
  while (reader.next(fields)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    ++row;
    add_row(d, spec, Example{cell(fields, text), cell(fields, pair), cell(fields, label), row}, reader.line());
  }
  // Columns given by index with a header whose label cell is a label of the data: the "header" is
  // most likely the first row of a headerless file.
  const bool by_index = header[size_t(text)] != spec.text_column || header[size_t(label)] != spec.label_column;
  if (!spec.no_header && by_index && size_t(label) < header.size())
    for (const Example& e : d.rows)
      if (e.label == header[size_t(label)]) {
        d.header_note = fmt::format(
            "{}: the first row was read as a header, but its label '{}' is a label of the data; pass --no-header if it "
            "is a row",
            d.source, header[size_t(label)]);
        break;
      }
}

void read_jsonl(Dataset& d, const std::string& data, const DatasetSpec& spec) {
  uint64_t line = 0, row = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    std::string_view l(data.data() + pos, end - pos);
    pos = end + 1;
    ++line;
    if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++row;
    const nlohmann::json j = parse_json(l, fmt::format("{}: line {}", d.source, line));
    auto get = [&](const std::string& name) -> std::string {
      if (name.empty() || !j.is_object() || !j.contains(name)) return "";
      const nlohmann::json& v = j[name];
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number_integer() || v.is_boolean()) return v.dump();  // labels such as 0/1
      return "";
    };
    add_row(d, spec, Example{get(spec.text_column), get(spec.pair_column), get(spec.label_column), row}, line);
  }
}

}  // namespace

int resolve_column(const std::string& column, const std::vector<std::string>& header, const std::string& source,
                   const char* flag) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == column) return int(i);
  if (!column.empty() && std::all_of(column.begin(), column.end(), ::isdigit)) {
    if (column.size() > 9) fail_input("{}: {} {} is beyond the {} columns of the header", source, flag, column, header.size());
    const int index = std::stoi(column);
    if (index < int(header.size())) return index;
    fail_input("{}: {} {} is beyond the {} columns of the header", source, flag, index, header.size());
  }
  std::string names;
  for (const std::string& h : header) names += (names.empty() ? "" : ", ") + h;
  fail_input("{}: no column '{}' ({}); the header has: {}", source, column, flag, names);
}

Dataset read_dataset(const std::string& path, const DatasetSpec& spec) {
  Dataset d;
  d.source = path;
  const std::string data = read_file(path);
  switch (detect_format(path, spec.format)) {
    case DatasetFormat::FORMAT_JSONL: read_jsonl(d, data, spec); break;
    case DatasetFormat::FORMAT_TSV: read_delimited(d, data, '\t', spec); break;
    default: read_delimited(d, data, ',', spec); break;
  }
  if (d.rows.empty()) fail_input("{}: no usable rows", path);
  return d;
}

}  // namespace bert::train
