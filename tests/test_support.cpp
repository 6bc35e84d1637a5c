#include "test_support.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

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
  std::vector<std::string> argv_strings{bin};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  // fork + exec + wait4 rather than system(): the child's own peak RSS, not the largest so far.
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    auto redirect = [](const fs::path& p, int flags, int target) {
      const int fd = ::open(p.c_str(), flags, 0644);
      if (fd < 0 || ::dup2(fd, target) < 0) ::_exit(126);
      ::close(fd);
    };
    redirect(dir / "stdin", O_RDONLY, 0);
    redirect(dir / "stdout", O_WRONLY | O_CREAT | O_TRUNC, 1);
    redirect(dir / "stderr", O_WRONLY | O_CREAT | O_TRUNC, 2);
    ::execv(bin, argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0)
    if (errno != EINTR) throw std::runtime_error("wait4 failed");
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.peak_rss_mb = double(usage.ru_maxrss) / 1024.0;
  r.out = slurp(dir / "stdout");
  r.err = slurp(dir / "stderr");
  return r;
}

}  // namespace bert::test
