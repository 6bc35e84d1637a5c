// Fine-tuning runs: labels from the data, the classifier head, tokenisation, epochs of shuffled
// micro-batches with gradient accumulation, evaluation, checkpoints and resumption. The command
// line (cmd/finetune.cpp) only parses flags and shows progress through the callbacks.
//
//   FinetuneRun run(std::move(model), train_rows, eval_rows, config);
//   run.train(callbacks);            // returns when done, stopped, or throws ERROR_INTERRUPTED
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/model.hpp"      // Model
#include "train/checkpoint.hpp" // TrainState
#include "train/dataset.hpp"    // Example
#include "train/metrics.hpp"    // Metrics
#include "train/task_data.hpp"  // TaskData
#include "train/trainer.hpp"    // Trainer, TrainerSettings

namespace bert::train {

struct FinetuneConfig {
  std::string output;            // the final (or best) model file
  std::string checkpoint;        // where checkpoints go (default: output + ".ckpt")
  std::string resume;            // a checkpoint to continue from
  int epochs = 3;
  int batch_size = 16;
  int grad_accum = 1;
  int max_length = 128;
  bool shuffle = true;
  double warmup_ratio = 0.1;     // from-scratch models need a warm-up; fine-tuning does not mind one
  TrainerSettings trainer;       // lr, decay, clipping, schedule, seed, freezing (steps filled in)
  std::string class_weights;     // "", "auto" (inverse frequency) or "w1,w2,..."
  int64_t eval_every = 0;        // also evaluate every N steps
  int64_t save_every = 0;        // also checkpoint every N steps
  int64_t stop_after_steps = 0;  // stop (with a checkpoint) once this many steps are done
  std::string keep_best;         // "", or a Metrics::value name: keep the best model as output
};

struct Progress {
  int epoch = 0, epochs = 0;               // epoch is 0-based
  int64_t step = 0, total_steps = 0;       // optimizer steps
  int64_t micro = 0, micro_per_epoch = 0;  // micro-batches within the epoch
  double loss = 0;                         // mean loss over the epoch's micro-batches so far (this process)
  double lr = 0;
  double examples_per_second = 0;
  double seconds = 0;                      // since this process started training
};

struct FinetuneCallbacks {
  std::function<void(const Progress&)> on_step;
  std::function<void(const Progress&, const Metrics&, bool is_best)> on_eval;
  std::function<void(const std::string&)> on_note;   // checkpoints written, resumption, ...
  const std::atomic<bool>* interrupt = nullptr;       // set by SIGINT: checkpoint and stop
};

// Labels in a stable order: numerically when every label is an integer, else lexicographically.
std::vector<std::string> sorted_labels(const std::vector<Example>& rows);

// The model to train: `base` itself when it already classifies a superset of `labels` (in its own
// order), otherwise a new classifier head on it (make_task_model).
model::Model prepare_classifier(model::Model base, const std::vector<std::string>& labels, uint64_t seed,
                                std::vector<std::string>& notes);

// A deterministic split: `fraction` of the rows (at least one) for evaluation; `keep` is true for
// the rows that stay in training.
std::vector<bool> eval_split_mask(size_t rows, double fraction, uint64_t seed);
template <class Row>
void split_for_eval(std::vector<Row>& train, std::vector<Row>& eval, double fraction, uint64_t seed) {
  const std::vector<bool> keep = eval_split_mask(train.size(), fraction, seed);
  std::vector<Row> kept;
  for (size_t i = 0; i < train.size(); ++i) (keep[i] ? kept : eval).push_back(std::move(train[i]));
  train = std::move(kept);
}

class FinetuneRun {
 public:
  // Any task: its features and its evaluation (task_data.hpp), made with config.max_length.
  FinetuneRun(model::Model& model, TaskData data, FinetuneConfig config);
  // Sequence classification of labelled rows.
  FinetuneRun(model::Model& model, const std::vector<Example>& train, const std::vector<Example>& eval,
              FinetuneConfig config);
  ~FinetuneRun();

  // Trains to the end (or to stop_after_steps). Returns true when the run is complete (the output
  // written, the checkpoint removed), false when it stopped early with a checkpoint. Throws
  // ERROR_INTERRUPTED after writing a checkpoint when the interrupt flag is raised.
  bool train(const FinetuneCallbacks& callbacks);

  // Training examples longer than max_length (truncated).
  size_t truncated_rows() const;
  size_t training_features() const;

  Metrics evaluate();  // on the eval rows; loss included
  int64_t total_steps() const;
  const std::string& checkpoint_path() const { return config_.checkpoint; }

 private:
  void save(const TrainState& state, const FinetuneCallbacks& cb);
  std::string settings_fingerprint() const;

  model::Model& model_;
  FinetuneConfig config_;
  std::unique_ptr<TaskData> data_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace bert::train
