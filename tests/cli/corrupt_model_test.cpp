// Model files edited after they were written: each edit that used to load and print nonsense (exit
// 0) is refused with one line naming the file and what is wrong (issue 17, item 6). The files are
// made by `bertctl init`, then changed byte by byte as a corrupting disk or a careless tool would.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "io/gguf.hpp"  // GgufFile: where a tensor's bytes are
#include "test_support.hpp"

using bert::test::run_bertctl;
using bert::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kVocab = std::string(BERTCTL_SOURCE_DIR) + "/vocab/example-vocab.txt";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}
void spit(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// Where the value of GGUF key `key` starts (after its u32 type).
size_t value_of_key(const std::string& file, const std::string& key) {
  std::string encoded(8, '\0');
  const uint64_t n = key.size();
  std::memcpy(encoded.data(), &n, 8);
  encoded += key;
  const size_t at = file.find(encoded);
  REQUIRE(at != std::string::npos);
  return at + encoded.size() + 4;
}

// Where the ggml type of tensor `name` is in the directory.
size_t type_of_tensor(const std::string& file, const std::string& name) {
  const size_t at = value_of_key(file, name) - 4;  // name, then u32 n_dims
  uint32_t n_dims = 0;
  std::memcpy(&n_dims, file.data() + at, 4);
  return at + 4 + 8 * n_dims;
}

template <class T>
void put(std::string& file, size_t at, T v) {
  std::memcpy(file.data() + at, &v, sizeof(T));
}

void expect_refused(const std::vector<std::string>& args, const std::string& problem) {
  auto r = run_bertctl(args, "some text\n");
  INFO("args: " << args[0] << " stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(problem) != std::string::npos);
  CHECK(r.out.empty());
}

}  // namespace

TEST_CASE("edited model files are refused, not run") {
  TempDir tmp;
  const fs::path good = tmp / "good.gguf", bad = tmp / "bad.gguf";
  // 128 x 256 intermediate weights (128 KiB): above the size that every load checks.
  REQUIRE(run_bertctl({"init", "--layers", "2", "--hidden", "128", "--heads", "2", "--intermediate", "256",
                       "--max-position", "64", "--vocab", kVocab, "--labels", "a,b", "-o", good.string()})
              .exit_code == 0);
  const std::string original = slurp(good);
  REQUIRE(run_bertctl({"classify", "-m", good.string()}, "some text\n").exit_code == 0);
  const std::vector<std::string> classify = {"classify", "-m", bad.string()};
  std::string f = original;

  SUBCASE("bert.block_count 1 of 2: layer 1 was silently ignored") {
    put<uint32_t>(f, value_of_key(f, "bert.block_count"), 1);
    spit(bad, f);
    expect_refused(classify, bad.string() + ": tensor 'bert.encoder.layer.1.attention.self.query.weight' is not "
                                            "part of the model the metadata describes (1 layers");
  }
  SUBCASE("general.alignment 1: every tensor read from the wrong place") {
    put<uint32_t>(f, value_of_key(f, "general.alignment"), 1);
    spit(bad, f);
    expect_refused(classify, "general.alignment 1 is not a power of two of at least 8");
  }
  SUBCASE("the classifier's dtype changed from F32 to F16") {
    put<uint32_t>(f, type_of_tensor(f, "classifier.weight"), 1);
    spit(bad, f);
    expect_refused(classify, bad.string() + ": tensor 'classifier.weight' does not match its checksum");
  }
  SUBCASE("a NaN or a negative layer-norm epsilon") {
    put<float>(f, value_of_key(f, "bert.attention.layer_norm_epsilon"), std::numeric_limits<float>::quiet_NaN());
    spit(bad, f);
    expect_refused(classify, "layer_norm_eps must be a finite number >= 0 (got nan)");
    put<float>(f, value_of_key(f, "bert.attention.layer_norm_epsilon"), -1e-12f);
    spit(bad, f);
    expect_refused(classify, "layer_norm_eps must be a finite number >= 0 (got -1e-12)");
  }
  SUBCASE("a NaN in a large weight: info --verify and convert find it") {
    auto fine = run_bertctl({"info", "--verify", good.string()});
    REQUIRE(fine.exit_code == 0);
    CHECK(fine.out.find("checksums:               41 tensors match (xxh3-64)") != std::string::npos);
    CHECK(fine.out.find("weights:                 all finite") != std::string::npos);
    // The tensor's bytes, found by content (init's weights are random, so 64 bytes are unique).
    const std::string name = "bert.encoder.layer.0.intermediate.dense.weight";
    const bert::io::GgufFile file(good.string());
    const bert::io::TensorData* t = file.tensors().find(name);
    REQUIRE(t);
    REQUIRE(t->nbytes > (size_t(64) << 10));
    const size_t at = f.find(std::string(static_cast<const char*>(t->data), 64));
    REQUIRE(at != std::string::npos);
    put<float>(f, at + 4 * 1000, std::numeric_limits<float>::quiet_NaN());
    spit(bad, f);
    expect_refused({"info", "--verify", bad.string()}, bad.string() + ": tensor '" + name + "' does not match its checksum");
    expect_refused({"convert", bad.string(), "-o", (tmp / "out.gguf").string()}, "does not match its checksum");
    CHECK_FALSE(fs::exists(tmp / "out.gguf"));
  }
}
