#include "test_support.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/wait.h>

namespace bert::test {

namespace fs = std::filesystem;

static fs::path shared_root() {
  if (const char* env = std::getenv("BERTCTL_SHARED"); env && *env) return env;
  return fs::path(BERTCTL_SOURCE_DIR) / ".." / "shared";
}

fs::path shared_path(const std::string& rel) {
  fs::path p = shared_root() / rel;
  if (!fs::exists(p)) {
    std::fprintf(stderr, "SKIPPED: %s not found (set BERTCTL_SHARED to the shared data folder)\n",
                 p.string().c_str());
    std::exit(77);
  }
  return p;
}

void skip_unless(bool available, const std::string& why) {
  if (available) return;
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
  std::exit(77);
}

fs::path testdata_path(const std::string& rel) { return fs::path(BERTCTL_SOURCE_DIR) / "testdata" / rel; }

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

double max_abs_diff(std::span<const float> got, std::span<const float> want, double tol,
                    const std::string& what) {
  if (got.size() != want.size()) {
    std::fprintf(stderr, "%s: size %zu != %zu\n", what.c_str(), got.size(), want.size());
    return INFINITY;
  }
  double worst = 0;
  int printed = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::fabs(double(got[i]) - double(want[i]));
    if (std::isnan(d)) d = INFINITY;
    if (tol >= 0 && d > tol && printed < 5) {
      std::fprintf(stderr, "%s[%zu]: got %.8g want %.8g (diff %.3g)\n", what.c_str(), i, got[i], want[i], d);
      ++printed;
    }
    worst = std::max(worst, d);
  }
  return worst;
}

static void flatten(const nlohmann::json& j, std::vector<float>& out) {
  if (j.is_array()) {
    for (const auto& x : j) flatten(x, out);
  } else {
    out.push_back(j.get<float>());
  }
}

std::vector<float> to_floats(const nlohmann::json& array) {
  std::vector<float> out;
  flatten(array, out);
  return out;
}

std::vector<nlohmann::json> parse_jsonl(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

bert::model::EncoderInput batch_from_json(const nlohmann::json& batch) {
  bert::model::EncoderInput in;
  in.B = int(batch["input_ids"].size());
  in.T = int(batch["input_ids"][0].size());
  for (int b = 0; b < in.B; ++b) {
    for (int v : batch["input_ids"][size_t(b)]) in.input_ids.push_back(v);
    for (int v : batch["token_type_ids"][size_t(b)]) in.token_type_ids.push_back(v);
    for (int v : batch["attention_mask"][size_t(b)]) in.attention_mask.push_back(uint8_t(v));
  }
  return in;
}

static std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

static std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::random_device rd;
  path = fs::temp_directory_path() / ("bertctl-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

RunResult run_bertctl(const std::vector<std::string>& args, const std::string& input) {
  const char* bin = std::getenv("BERTCTL");
  if (!bin || !*bin) throw std::runtime_error("set BERTCTL to the bertctl binary");
  TempDir dir;
  {
    std::ofstream(dir / "stdin", std::ios::binary) << input;
  }
  std::string cmd = quote(bin);
  for (const std::string& a : args) cmd += " " + quote(a);
  cmd += " <" + quote((dir / "stdin").string()) + " >" + quote((dir / "stdout").string()) + " 2>" +
         quote((dir / "stderr").string());
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(dir / "stdout");
  r.err = slurp(dir / "stderr");
  return r;
}

}  // namespace bert::test
