// bench_forward: the encoder's forward pass on fixed shapes, timed the way ../shared/bench/ort_bench.mjs
// times ONNX Runtime (warm-up runs, then timed runs for at least --min-time seconds; median latency).
// Warm-up lasts at least until the weights are packed and int8 layers have primitives of their own
// (ops::calls_until_steady: 19 runs at 1x128), as ONNX Runtime packs its weights at session creation.
// A benchmark, not a test: it prints figures and fails on nothing but bad arguments.
//
//   bench_forward MODEL [--shapes 1x128,8x128,32x128,1x512] [--threads N] [--min-time S] [--warmup W]
//
// One JSON line per shape: median/min/max latency in ms, sequences/s, and the GFLOP/s of the matmuls
// (Q, K, V, O projections, FFN and attention; the same count as ../shared/bench/README.md).
// BENCH_TRACE=1 also prints every timed run's milliseconds on stderr (to see a noisy machine's spread);
// with ONEDNN_VERBOSE set, a line "bench_forward: steady BxT" marks where the timed runs' log begins.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/inference.hpp"
#include "model/model.hpp"
#include "ops/ops.hpp"

namespace {

double matmul_gflop(const bert::model::BertConfig& c, int B, int T) {
  const double C = c.hidden_size, I = c.intermediate_size;
  const double per_layer = 2.0 * T * C * 3 * C + 2.0 * T * C * C + 2.0 * 2 * T * C * I + 2.0 * 2 * T * T * C;
  return per_layer * c.num_hidden_layers * B / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_forward MODEL [--shapes BxT,...] [--threads N] [--min-time S] [--warmup W]\n");
    return 2;
  }
  std::string model_path = argv[1], shapes = "1x128,8x128,32x128,1x512";
  int threads = 1, warmup = 2;
  double min_time = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--shapes") shapes = v;
    else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--min-time") min_time = std::stod(v);
    else if (a == "--warmup") warmup = std::stoi(v);
    else {
      std::fprintf(stderr, "bench_forward: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  try {
    bert::ops::set_num_threads(threads);
    const auto load_start = std::chrono::steady_clock::now();
    bert::model::Model model = bert::model::load_model(model_path);
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
    bert::model::Inference inf(model);
    std::mt19937 rng(1);
    std::stringstream ss(shapes);
    for (std::string shape; std::getline(ss, shape, ',');) {
      const int B = std::stoi(shape.substr(0, shape.find('x'))), T = std::stoi(shape.substr(shape.find('x') + 1));
      bert::model::EncoderInput in;
      in.B = B;
      in.T = T;
      for (int i = 0; i < B * T; ++i) {
        const int t = i % T;
        in.input_ids.push_back(t == 0 ? 101 : t == T - 1 ? 102 : 1000 + int(rng() % 20000));
      }
      in.token_type_ids.assign(size_t(B) * T, 0);
      in.attention_mask.assign(size_t(B) * T, 1);
      const auto first_start = std::chrono::steady_clock::now();
      inf.run(in);
      const double first_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - first_start).count();
      for (int w = 1; w < std::max(warmup, bert::ops::calls_until_steady(B * T)); ++w) inf.run(in);
      // With oneDNN's verbose log on (stdout too, so in order), mark where the steady runs begin:
      // bench/run.sh reads which kernels those ran.
      if (std::getenv("ONEDNN_VERBOSE")) std::printf("bench_forward: steady %dx%d\n", B, T), std::fflush(stdout);
      std::vector<double> ms;
      const auto begin = std::chrono::steady_clock::now();
      while (ms.size() < 3 || std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count() < min_time) {
        const auto t0 = std::chrono::steady_clock::now();
        inf.run(in);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      if (std::getenv("BENCH_TRACE"))
        for (double t : ms) std::fprintf(stderr, "%.0f ", t);
      std::sort(ms.begin(), ms.end());
      const double median = ms[ms.size() / 2];
      std::printf(
          "{\"impl\":\"bertctl\",\"dtype\":\"%s\",\"threads\":%d,\"batch\":%d,\"seq\":%d,\"runs\":%zu,"
          "\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,\"seq_per_s\":%.3f,\"gflops\":%.1f,\"first_run_ms\":%.3f,"
          "\"load_ms\":%.3f}\n",
          bert::io::dtype_name(model.stored_dtype), threads, B, T, ms.size(), median, ms.front(), ms.back(),
          B / (median / 1e3), matmul_gflop(model.config, B, T) / (median / 1e3), first_ms, load_ms);
      std::fflush(stdout);
    }
  } catch (const bert::Error& e) {
    std::fprintf(stderr, "bench_forward: %s\n", e.what());
    return 1;
  }
  return 0;
}
