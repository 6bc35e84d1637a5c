// The input side every text-reading subcommand shares: input files, --pair, --input-format
// text|jsonl with --text-field/--pair-field, and --on-error for invalid UTF-8. Declared once so the
// flags and their help read the same in tokenize, encode, classify and fill-mask.
#pragma once
#include "core/line_reader.hpp"  // LineBatch, LineReader, kDefaultMaxLineBytes
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>  // CLI::App

namespace bertctl {

struct TextInputOptions {
  std::vector<std::string> inputs;       // files; none or "-" = standard input
  std::string input_format = "text";     // text | jsonl | csv | tsv
  std::string text_field = "text";       // jsonl field or csv/tsv column (name or index): the text
  std::string pair_field = "text_pair";  // ... with --pair: the second text
  bool pair = false;
  std::string on_error = "fail";         // invalid UTF-8: fail | replace
  size_t max_line_bytes = bert::kDefaultMaxLineBytes;  // longer lines are cut (text) or refused
  bool keep_texts = false;               // the model pipeline keeps each line's texts (ner, qa)
};

// Whether a command reads pairs: with --pair (the default), never (ner), or always (qa: question
// and context; --pair-field names the second).
enum class PairInput { PAIRS_OPTIONAL, PAIRS_NONE, PAIRS_ALWAYS };

// `tables`: csv and tsv input too (commands that run the model pipeline; it reads the header).
void add_text_input_options(CLI::App& app, TextInputOptions& o, bool tables = false,
                            PairInput pairs = PairInput::PAIRS_OPTIONAL);

bool is_table(const TextInputOptions& o);  // csv or tsv

// CSV/TSV input: each input's columns, from its header line. The reader thread records a header
// before handing out any later line of that input, so workers always find it.
class TableColumns {
 public:
  void read_header(const TextInputOptions& o, const std::string& source, std::string_view line);
  std::pair<int, int> of(const std::string& source) const;  // text, pair (-1 without --pair)

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<int, int>> columns_;
};

// The text(s) of one input line. Views point into the line or into the storage strings.
struct LineTexts {
  std::string_view a, b;
  std::string storage_a, storage_b, repaired;
};

// Extracts the text (and, with --pair, the second text) of one line: repairs or rejects invalid
// UTF-8, splits on the tab, or parses the JSON line. Returns an error message, or "" when fine.
// CSV/TSV lines need the columns of their input (`source`); a record is one line (a quoted field
// with a newline in it is an error here).
std::string read_line_texts(const TextInputOptions& o, std::string_view line, LineTexts& out,
                            const TableColumns* columns = nullptr, const std::string& source = "");

// Line `i` of `lines` through read_line_texts; a line the reader cut at --max-line-bytes is an error
// unless the input is plain text (a cut JSON or CSV record would be misread).
std::string read_batch_line_texts(const TextInputOptions& o, const bert::LineBatch& lines, size_t i, LineTexts& out,
                                  const TableColumns* columns = nullptr);

// After the run: one warning when lines were cut at --max-line-bytes (how many, and the first).
void report_cut_lines(const char* command, const bert::LineReader& reader);

}  // namespace bertctl
