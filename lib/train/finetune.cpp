#include "train/finetune.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>  // the settings fingerprint

#include "core/error.hpp"
#include "core/json.hpp"  // try_parse_json (bounded nesting)
#include "model/init.hpp"     // make_task_model, NormalRng
#include "train/evaluation.hpp"  // evaluate_classifier
#include "train/loss.hpp"     // cross_entropy

namespace bert::train {

namespace {

bool is_integer(const std::string& s) {
  size_t i = (s.size() > 1 && s[0] == '-') ? 1 : 0;
  return i < s.size() && s.size() - i <= 18 && std::all_of(s.begin() + long(i), s.end(), ::isdigit);
}

}  // namespace

std::vector<std::string> sorted_labels(const std::vector<Example>& rows) {
  std::vector<std::string> labels;
  for (const Example& e : rows) labels.push_back(e.label);
  std::sort(labels.begin(), labels.end());
  labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
  if (std::all_of(labels.begin(), labels.end(), is_integer))
    std::sort(labels.begin(), labels.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  return labels;
}

model::Model prepare_classifier(model::Model base, const std::vector<std::string>& labels, uint64_t seed,
                                std::vector<std::string>& notes) {
  if (base.config.has_classifier()) {
    const auto& have = base.config.labels;
    const bool covered = std::all_of(labels.begin(), labels.end(), [&](const std::string& l) {
      return std::find(have.begin(), have.end(), l) != have.end();
    });
    if (covered) return base;
    notes.push_back(fmt::format("the base model's labels do not cover the data's; training a new {}-label head",
                                labels.size()));
  }
  if (!base.config.has_pooler) notes.push_back("the base model has no pooler; it starts freshly initialised");
  return model::make_task_model(base, model::Task::TASK_SEQUENCE_CLASSIFICATION, labels, seed);
}

std::vector<bool> eval_split_mask(size_t n, double fraction, uint64_t seed) {
  size_t k = size_t(std::llround(double(n) * fraction));
  k = std::clamp<size_t>(k, 1, n > 1 ? n - 1 : 0);
  if (k == 0) fail_input("--eval-split needs at least two rows of training data");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  model::NormalRng rng(seed ^ 0x5e11a7e5ull);
  for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.next() % (i + 1)]);
  std::vector<bool> keep(n, true);
  for (size_t i = 0; i < k; ++i) keep[order[i]] = false;
  return keep;
}

// ---- the run ------------------------------------------------------------------------------------

FinetuneRun::FinetuneRun(model::Model& model, const std::vector<Example>& train, const std::vector<Example>& eval,
                         FinetuneConfig config)
    : FinetuneRun(model,
                  classification_data(model, train, eval,
                                      std::min(config.max_length, model.config.max_position_embeddings)),
                  config) {}

FinetuneRun::FinetuneRun(model::Model& model, TaskData data, FinetuneConfig config)
    : model_(model), config_(std::move(config)), data_(std::make_unique<TaskData>(std::move(data))) {
  const model::BertConfig& c = model_.config;
  if (config_.checkpoint.empty()) config_.checkpoint = config_.output + ".ckpt";
  config_.max_length = std::min(config_.max_length, c.max_position_embeddings);
  if (data_->train.empty()) fail_input("no training examples");

  TrainerSettings& s = config_.trainer;
  s.total_steps = total_steps();
  s.warmup_steps = int64_t(std::ceil(config_.warmup_ratio * double(s.total_steps)));
  // Class weights: "auto" gives n / (classes · count), scikit-learn's "balanced".
  const int L = c.num_labels();
  if (!config_.class_weights.empty() && !c.has_labels())
    fail_usage("--class-weights applies to classifiers; {} has no labels", c.hf_class());
  if (config_.class_weights == "auto") {
    // Over every labelled position (a token's label in token classification).
    std::vector<int64_t> count(size_t(L), 0);
    int64_t total = 0;
    for (const Feature& f : data_->train)
      for (int32_t y : f.labels)
        if (y >= 0) ++count[size_t(y)], ++total;
    for (int j = 0; j < L; ++j)
      s.class_weights.push_back(count[size_t(j)] ? float(double(total) / (double(L) * count[size_t(j)])) : 0.f);
  } else if (!config_.class_weights.empty()) {
    std::stringstream ss(config_.class_weights);
    for (std::string w; std::getline(ss, w, ',');) {
      size_t used = 0;
      float v = -1;
      try {
        v = std::stof(w, &used);
      } catch (...) {
      }
      if (used != w.size() || !(v >= 0)) fail_usage("--class-weights: '{}' is not a non-negative number", w);
      s.class_weights.push_back(v);
    }
    if (int(s.class_weights.size()) != L)
      fail_usage("--class-weights gives {} weights for {} labels", s.class_weights.size(), L);
  }
  trainer_ = std::make_unique<Trainer>(model_, s);
}

FinetuneRun::~FinetuneRun() = default;

int64_t FinetuneRun::total_steps() const {
  const int64_t micro = (int64_t(data_->train.size()) + config_.batch_size - 1) / config_.batch_size;
  return int64_t(config_.epochs) * ((micro + config_.grad_accum - 1) / config_.grad_accum);
}

std::string FinetuneRun::settings_fingerprint() const {
  const TrainerSettings& s = config_.trainer;
  nlohmann::ordered_json j;
  j["epochs"] = config_.epochs;
  j["batch_size"] = config_.batch_size;
  j["grad_accum"] = config_.grad_accum;
  j["max_length"] = config_.max_length;
  j["shuffle"] = config_.shuffle;
  j["warmup_ratio"] = config_.warmup_ratio;
  j["lr"] = s.adamw.lr;
  j["weight_decay"] = s.adamw.weight_decay;
  j["decay_norm_and_bias"] = s.decay_norm_and_bias;
  j["max_grad_norm"] = s.max_grad_norm;
  j["schedule"] = s.schedule == Schedule::SCHEDULE_LINEAR ? "linear" : "constant";
  j["seed"] = s.seed;
  j["freeze_encoder"] = s.freeze_encoder;
  j["train_layers"] = s.train_layers;
  j["class_weights"] = config_.class_weights;
  j["dropout"] = {model_.config.hidden_dropout_prob, model_.config.attention_probs_dropout_prob,
                  model_.config.classifier_dropout};
  j["task"] = model_.config.spec().name;
  j["labels"] = model_.config.labels;
  j["training_rows"] = data_->train.size();
  j["training_data_hash"] = fmt::format("{:016x}", data_->hash);
  return j.dump();
}

void FinetuneRun::save(const TrainState& state, const FinetuneCallbacks& cb) {
  save_checkpoint(config_.checkpoint, model_, *trainer_, state);
  if (cb.on_note) cb.on_note(fmt::format("checkpoint at step {}: {}", state.step, config_.checkpoint));
}

Metrics FinetuneRun::evaluate() {
  return data_->evaluate([&](const model::EncoderInput& batch) { return trainer_->predict(batch); }, data_->eval,
                         config_.batch_size);
}

bool FinetuneRun::train(const FinetuneCallbacks& cb) {
  const model::BertConfig& c = model_.config;
  const int64_t n = int64_t(data_->train.size()), bs = config_.batch_size;
  const int64_t micro_per_epoch = (n + bs - 1) / bs;
  TrainState state;
  state.run_settings = settings_fingerprint();
  if (!config_.resume.empty()) {
    TrainState saved = restore_checkpoint(config_.resume, *trainer_);
    if (saved.run_settings != state.run_settings) {
      nlohmann::json a, b = nlohmann::json::parse(state.run_settings);  // b is ours
      if (std::string err = try_parse_json(saved.run_settings, a); !err.empty() || !a.is_object())
        fail_model("{}: malformed run settings: {}", config_.resume, err.empty() ? "not an object" : err);
      for (auto& [k, v] : a.items())
        if (!b.contains(k) || b[k] != v)
          fail_usage("{} was made with {} = {}, this run has {}; resume with the same settings and data",
                     config_.resume, k, v.dump(), b.contains(k) ? b[k].dump() : "nothing");
    }
    // The counters come from a file: they must describe a point this run can reach (a micro-batch
    // of -1000 read outside the data; 2^62 "finished" at once).
    const int64_t ga = config_.grad_accum, steps_per_epoch = (micro_per_epoch + ga - 1) / ga;
    const int64_t e = saved.epoch, micro = saved.micro_in_epoch;
    const bool fits = e >= 0 && e <= config_.epochs && micro >= 0 && micro <= micro_per_epoch &&
                      (micro % ga == 0 || micro == micro_per_epoch) && (e < config_.epochs || micro == 0) &&
                      saved.step == e * steps_per_epoch + (micro + ga - 1) / ga &&
                      (!saved.has_best || std::isfinite(saved.best_metric));
    if (!fits)
      fail_model("{}: the checkpoint's position (epoch {}, micro-batch {}, step {}) is not one this run reaches "
                 "({} epochs of {} micro-batches, {} per step): the file is damaged",
                 config_.resume, e, micro, saved.step, config_.epochs, micro_per_epoch, ga);
    state = saved;
    if (cb.on_note) cb.on_note(fmt::format("resuming at step {} (epoch {})", state.step, state.epoch + 1));
  }
  const bool has_eval = !data_->eval.empty();
  auto better = [&](const Metrics& m) {
    const double v = m.value(config_.keep_best);
    if (state.has_best && v <= state.best_metric) return false;
    state.best_metric = v;
    state.has_best = true;
    return true;
  };
  auto run_eval = [&](const Progress& p) {
    if (!has_eval) return;
    const Metrics m = evaluate();
    const bool best = !config_.keep_best.empty() && better(m);
    if (best) model::save_model_gguf(model_, config_.output);
    if (cb.on_eval) cb.on_eval(p, m, best);
  };

  const auto started = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  Progress p;
  p.epochs = config_.epochs;
  p.total_steps = total_steps();
  p.micro_per_epoch = micro_per_epoch;
  for (int epoch = int(state.epoch); epoch < config_.epochs; ++epoch) {
    // The epoch's order depends only on (seed, epoch), so a resumed run sees the same batches.
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    if (config_.shuffle) {
      model::NormalRng rng(config_.trainer.seed * 0x9e3779b97f4a7c15ull + uint64_t(epoch) + 1);
      for (int64_t i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[rng.next() % uint64_t(i + 1)]);
    }
    double loss_sum = 0;
    int64_t loss_count = 0, examples = 0;
    auto window_start = std::chrono::steady_clock::now();
    for (int64_t micro = state.micro_in_epoch; micro < micro_per_epoch;) {
      if (config_.stop_after_steps > 0 && state.step >= config_.stop_after_steps) return false;
      const int64_t group_end = std::min(micro_per_epoch, micro + config_.grad_accum);
      const float scale = 1.f / float(group_end - micro);
      for (; micro < group_end; ++micro) {
        std::vector<const text::Encoding*> batch;
        std::vector<const Feature*> features;
        for (int64_t i = micro * bs; i < std::min(n, (micro + 1) * bs); ++i) {
          features.push_back(&data_->train[size_t(order[size_t(i)])]);
          batch.push_back(&features.back()->encoding);
        }
        const model::EncoderInput input = model::make_encoder_input(batch, c.pad_token_id);
        loss_sum += trainer_->accumulate(input, batch_labels(c.task, features, input.T), scale);
        ++loss_count;
        examples += int64_t(batch.size());
      }
      p.lr = trainer_->current_lr();
      trainer_->step();
      state.step = trainer_->steps_done();
      state.epoch = epoch;
      state.micro_in_epoch = micro;
      p.epoch = epoch;
      p.step = state.step;
      p.micro = micro;
      p.loss = loss_sum / double(loss_count);
      const double window = seconds_since(window_start);
      p.examples_per_second = window > 0 ? double(examples) / window : 0;
      p.seconds = seconds_since(started);
      if (cb.on_step) cb.on_step(p);
      if (micro < micro_per_epoch) {  // checkpoints at the epoch's end happen below, once
        if (config_.save_every > 0 && state.step % config_.save_every == 0) save(state, cb);
        if (config_.eval_every > 0 && state.step % config_.eval_every == 0) run_eval(p);
      }
      if (cb.interrupt && cb.interrupt->load()) {
        save(state, cb);
        fail(ErrorKind::ERROR_INTERRUPTED,
             "interrupted at step {} of {}; checkpoint written to {}. Resume by running the same command with "
             "--resume {}",
             state.step, p.total_steps, config_.checkpoint, config_.checkpoint);
      }
      if (config_.stop_after_steps > 0 && state.step >= config_.stop_after_steps && micro < micro_per_epoch) {
        save(state, cb);
        return false;
      }
    }
    state.epoch = epoch + 1;
    state.micro_in_epoch = 0;
    run_eval(p);
    save(state, cb);
    if (config_.stop_after_steps > 0 && state.step >= config_.stop_after_steps && epoch + 1 < config_.epochs)
      return false;
  }
  if (config_.keep_best.empty() || !has_eval) model::save_model_gguf(model_, config_.output);
  // The run is complete: its checkpoint has nothing left to resume.
  std::error_code ec;
  std::filesystem::remove(config_.checkpoint, ec);
  return true;
}

size_t FinetuneRun::truncated_rows() const { return data_->truncated; }

size_t FinetuneRun::training_features() const { return data_->train.size(); }

}  // namespace bert::train
