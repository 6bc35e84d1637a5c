// The input side every text-reading subcommand shares: input files, --pair, --input-format
// text|jsonl with --text-field/--pair-field, and --on-error for invalid UTF-8. Declared once so the
// flags and their help read the same in tokenize, encode, classify and fill-mask.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>  // CLI::App

namespace bertctl {

struct TextInputOptions {
  std::vector<std::string> inputs;       // files; none or "-" = standard input
  std::string input_format = "text";     // text | jsonl
  std::string text_field = "text";       // jsonl: the text
  std::string pair_field = "text_pair";  // jsonl with --pair: the second text
  bool pair = false;
  std::string on_error = "fail";         // invalid UTF-8: fail | replace
};

void add_text_input_options(CLI::App& app, TextInputOptions& o);

// The text(s) of one input line. Views point into the line or into the storage strings.
struct LineTexts {
  std::string_view a, b;
  std::string storage_a, storage_b, repaired;
};

// Extracts the text (and, with --pair, the second text) of one line: repairs or rejects invalid
// UTF-8, splits on the tab, or parses the JSON line. Returns an error message, or "" when fine.
std::string read_line_texts(const TextInputOptions& o, std::string_view line, LineTexts& out);

}  // namespace bertctl
