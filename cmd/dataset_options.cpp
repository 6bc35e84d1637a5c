#include "dataset_options.hpp"

#include <cstdio>
#include <map>

namespace bertctl {

bert::train::DatasetSpec DatasetOptions::resolved() const {
  using bert::train::DatasetFormat;
  static const std::map<std::string, DatasetFormat> formats = {{"auto", DatasetFormat::FORMAT_AUTO},
                                                               {"csv", DatasetFormat::FORMAT_CSV},
                                                               {"tsv", DatasetFormat::FORMAT_TSV},
                                                               {"jsonl", DatasetFormat::FORMAT_JSONL}};
  bert::train::DatasetSpec s = spec;
  s.format = formats.at(input_format);
  s.skip_bad_rows = on_error == "skip";
  return s;
}

void add_dataset_options(CLI::App& app, DatasetOptions& o, const char* on_error_help) {
  app.add_option("--input-format", o.input_format, "Data format: auto (by extension), csv, tsv or jsonl")
      ->check(CLI::IsMember({"auto", "csv", "tsv", "jsonl"}))
      ->capture_default_str();
  app.add_option("--text-column", o.spec.text_column, "Column (name or 0-based index) holding the text")
      ->capture_default_str();
  app.add_option("--text-pair-column", o.spec.pair_column, "Column holding a second text (sentence pairs)");
  app.add_option("--label-column", o.spec.label_column, "Column holding the label")->capture_default_str();
  app.add_flag("--no-header", o.spec.no_header,
               "CSV/TSV without a header row: the first row is data, columns are 0-based indices");
  app.add_option("--on-error", o.on_error, on_error_help)->check(CLI::IsMember({"fail", "skip"}))->capture_default_str();
}

void report_dataset(const bert::train::Dataset& d, const char* command, bool quiet) {
  if (!d.header_note.empty() && !quiet) std::fprintf(stderr, "bertctl: %s: note: %s\n", command, d.header_note.c_str());
  if (d.skipped)
    std::fprintf(stderr, "bertctl: %s: skipped %llu bad row(s) of %s, e.g. %s\n", command,
                 static_cast<unsigned long long>(d.skipped), d.source.c_str(), d.skipped_reasons.front().c_str());
}

}  // namespace bertctl
