// The flags that say how to read a labelled file (finetune's --train/--eval, evaluate's DATA):
// --input-format, the columns, --no-header, --on-error. Declared once so both read the same.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "train/dataset.hpp"  // DatasetSpec

namespace bertctl {

struct DatasetOptions {
  bert::train::DatasetSpec spec;
  std::string input_format = "auto";  // auto | csv | tsv | jsonl
  std::string on_error = "fail";      // fail | skip
  // The spec with the format and the bad-row policy filled in from the flags.
  bert::train::DatasetSpec resolved() const;
};

void add_dataset_options(CLI::App& app, DatasetOptions& o, const char* on_error_help);

// What reading a file left to say: rows skipped (always), a header that looks like data (unless quiet).
void report_dataset(const bert::train::Dataset& d, const char* command, bool quiet);

}  // namespace bertctl
