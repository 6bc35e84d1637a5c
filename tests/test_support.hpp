// Helpers for unit tests: where ../shared is, reading its JSON, comparing float arrays.
//
//   auto dir = bert::test::shared_path("fixtures/tiny-uncased-mlm");   // skips (exit 77) if absent
//   auto j = bert::test::read_json(dir / "config.json");
//   CHECK(bert::test::max_abs_diff(got, want) <= 1e-4);
#pragma once
#include <filesystem>   // path
#include <span>         // span
#include <string>
#include <vector>

#include <nlohmann/json.hpp>  // json

#include "model/encoder.hpp"  // EncoderInput

namespace bert::test {

// $BERTCTL_SHARED/rel (default ../shared beside the repository). When the folder is absent the
// test binary prints why and exits with 77, which CTest reports as skipped.
std::filesystem::path shared_path(const std::string& rel);

// Ends the test binary as skipped (exit 77, printing why) unless `available`: for a binary whose
// every case needs a CPU feature, so CTest says "skipped" where the machine lacks it.
void skip_unless(bool available, const std::string& why);

// This repository's own testdata/ folder.
std::filesystem::path testdata_path(const std::string& rel);

nlohmann::json read_json(const std::filesystem::path& path);

// Largest |a[i] - b[i]|; prints the first few mismatches above tol (llm.c check_tensor style).
double max_abs_diff(std::span<const float> got, std::span<const float> want, double tol = -1,
                    const std::string& what = "");

std::vector<float> to_floats(const nlohmann::json& array);  // flattens nested arrays

// One JSON value per line (a command's --format jsonl output).
std::vector<nlohmann::json> parse_jsonl(const std::string& text);

// A padded batch given as JSON arrays input_ids, token_type_ids, attention_mask, each [B][T].
bert::model::EncoderInput batch_from_json(const nlohmann::json& batch);

// Runs the bertctl binary ($BERTCTL) with `args`, feeding `input` on standard input.
struct RunResult {
  int exit_code = -1;
  std::string out, err;
  double peak_rss_mb = 0;  // the process's maximum resident set
};
RunResult run_bertctl(const std::vector<std::string>& args, const std::string& input = "");

// A fresh empty directory under the temporary folder, removed by the destructor.
struct TempDir {
  TempDir();
  ~TempDir();
  std::filesystem::path path;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

}  // namespace bert::test
