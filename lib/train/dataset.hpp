// Labelled text for fine-tuning, read from CSV (RFC 4180: quoted fields with embedded commas,
// doubled quotes and newlines), TSV (the same rules with tabs) or JSON Lines. Columns are chosen
// by header name or 0-based index. Every problem names the file and the row (and its line).
//
//   DatasetSpec spec;  spec.text_column = "text";  spec.label_column = "label";
//   Dataset d = read_dataset("train.csv", spec);     // d.rows[i].text, .label; d.skipped
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bert::train {

enum class DatasetFormat { FORMAT_AUTO, FORMAT_CSV, FORMAT_TSV, FORMAT_JSONL };

struct DatasetSpec {
  DatasetFormat format = DatasetFormat::FORMAT_AUTO;  // auto: by extension (.csv, .tsv/.tab, .jsonl/.json)
  std::string text_column = "text";     // name, or a 0-based index
  std::string pair_column;              // empty: single texts
  std::string label_column = "label";
  bool skip_bad_rows = false;           // false: the first bad row is an error
  bool no_header = false;               // CSV/TSV: the first row is data; columns by 0-based index
};

struct Example {
  std::string text, text_pair, label;
  uint64_t row = 0;  // 1-based data row (the header is not a row)
};

struct Dataset {
  std::string source;
  std::vector<Example> rows;
  uint64_t skipped = 0;                 // bad rows skipped with skip_bad_rows
  std::vector<std::string> skipped_reasons;  // the first few, for the message
  std::string header_note;  // set when the header read looks like a row of data
};

Dataset read_dataset(const std::string& path, const DatasetSpec& spec);

// The index of a column given by header name or 0-based index; an error naming `source`, `flag`
// and the header's columns when there is none.
int resolve_column(const std::string& column, const std::vector<std::string>& header, const std::string& source,
                   const char* flag);

// One CSV/TSV record at a time from a buffer; exposed for tests.
class DelimitedReader {
 public:
  DelimitedReader(std::string_view data, char delimiter, std::string source);
  // Next record's fields; false at the end. Throws ERROR_INPUT on an unterminated quote.
  bool next(std::vector<std::string>& fields);
  uint64_t line() const { return record_line_; }  // 1-based line where the last record started

 private:
  std::string_view data_;
  size_t pos_ = 0;
  char delimiter_;
  std::string source_;
  uint64_t line_ = 1, record_line_ = 1;
};

}  // namespace bert::train
