// bench_train: one fine-tuning step (forward, backward, AdamW) on fixed shapes, the same work that
// ../shared/bench/bert_torch.py `train` times for PyTorch: a 2-label classifier on the pooled output,
// dropout 0.1, random token ids, batch × seq tokens, no padding. A benchmark, not a test.
//
//   bench_train [--config base|small] [--batch B] [--seq T] [--threads N] [--steps S] [--warmup W]
//
// Prints one JSON line: median/min/max step time, examples/s, and the peak resident memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "model/init.hpp"
#include "model/model.hpp"
#include "ops/ops.hpp"
#include "train/trainer.hpp"

int main(int argc, char** argv) {
  std::string config = "base";
  int batch = 8, seq = 128, threads = 2, steps = 5, warmup = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--config") config = v;
    else if (a == "--batch") batch = std::stoi(v);
    else if (a == "--seq") seq = std::stoi(v);
    else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--steps") steps = std::stoi(v);
    else if (a == "--warmup") warmup = std::stoi(v);
    else {
      std::fprintf(stderr, "bench_train: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  try {
    bert::ops::set_num_threads(threads);
    bert::model::BertConfig c;
    c.task = bert::model::Task::TASK_SEQUENCE_CLASSIFICATION;
    c.vocab_size = 30522;
    c.hidden_size = config == "small" ? 256 : 768;
    c.num_hidden_layers = config == "small" ? 4 : 12;
    c.num_attention_heads = config == "small" ? 4 : 12;
    c.intermediate_size = config == "small" ? 1024 : 3072;
    c.max_position_embeddings = 512;
    c.labels = {"0", "1"};
    std::vector<std::string> vocab(size_t(c.vocab_size));
    for (size_t i = 0; i < vocab.size(); ++i) vocab[i] = "[unused" + std::to_string(i) + "]";
    vocab[0] = "[PAD]", vocab[100] = "[UNK]", vocab[101] = "[CLS]", vocab[102] = "[SEP]", vocab[103] = "[MASK]";
    bert::model::Model model =
        bert::model::make_model(c, bert::text::Tokenizer(bert::text::Vocab(vocab), bert::text::TokenizerConfig{}));
    bert::model::init_weights(model.config, model.weights, 0);
    bert::train::TrainerSettings s;
    s.adamw.lr = 2e-5;
    s.adamw.weight_decay = 0.01;
    s.decay_norm_and_bias = true;  // torch.optim.AdamW(model.parameters()) as the peer does
    s.max_grad_norm = 0;
    s.schedule = bert::train::Schedule::SCHEDULE_CONSTANT;
    s.total_steps = warmup + steps;
    bert::train::Trainer trainer(model, s);

    std::mt19937 rng(3);
    bert::model::EncoderInput in;
    in.B = batch;
    in.T = seq;
    for (int i = 0; i < batch * seq; ++i) {
      const int t = i % seq;
      in.input_ids.push_back(t == 0 ? 101 : t == seq - 1 ? 102 : 1000 + int(rng() % 29522));
      in.token_type_ids.push_back(t >= seq / 2 ? 1 : 0);
    }
    in.attention_mask.assign(size_t(batch) * seq, 1);
    std::vector<int32_t> labels;
    for (int b = 0; b < batch; ++b) labels.push_back(int32_t(rng() % 2));

    std::vector<double> ms;
    double loss = 0;
    for (int i = 0; i < warmup + steps; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      loss = trainer.accumulate(in, labels, 1.f);
      trainer.step();
      if (i >= warmup) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf(
        "{\"impl\":\"bertctl\",\"cmd\":\"train\",\"config\":\"%s\",\"threads\":%d,\"batch\":%d,\"seq\":%d,\"steps\":%d,"
        "\"median_step_ms\":%.1f,\"min_step_ms\":%.1f,\"max_step_ms\":%.1f,\"examples_per_s\":%.3f,"
        "\"peak_rss_mb\":%.1f,\"last_loss\":%.4f}\n",
        config.c_str(), threads, batch, seq, steps, median, ms.front(), ms.back(), batch / (median / 1e3),
        ru.ru_maxrss / 1024.0, loss);
  } catch (const bert::Error& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
