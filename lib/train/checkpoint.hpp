// Training checkpoints: a model file (it works with `bertctl classify` as it is) plus the AdamW
// moments as tensors "m.<name>" and "v.<name>" and the position of the run (step, epoch, micro-batch
// within the epoch, best metric, the settings it was started with). Written atomically.
//
//   save_checkpoint("out.ckpt", model, trainer, state);
//   Model m = load_model("out.ckpt", {.writable = true});  Trainer t(m, settings);
//   TrainState s = restore_checkpoint("out.ckpt", t);
#pragma once
#include <cstdint>
#include <string>

#include "model/model.hpp"     // Model
#include "train/trainer.hpp"   // Trainer

namespace bert::train {

struct TrainState {
  int64_t step = 0;             // optimizer steps done
  int64_t epoch = 0;            // current epoch, from 0
  int64_t micro_in_epoch = 0;   // micro-batches of `epoch` already done
  double best_metric = 0;
  bool has_best = false;
  std::string run_settings;     // what must match on resume (JSON)
};

void save_checkpoint(const std::string& path, const model::Model& model, Trainer& trainer, const TrainState& state);

// Whether `path` is a model file holding a training checkpoint (optimizer state included).
bool is_checkpoint(const std::string& path);

// The settings of the run that wrote the checkpoint (JSON: FinetuneRun::settings_fingerprint).
std::string checkpoint_settings(const std::string& path);

// Reads the state and loads the optimizer moments into `trainer` (whose model was loaded from the
// same file). Throws ERROR_MODEL when the file is not a checkpoint.
TrainState restore_checkpoint(const std::string& path, Trainer& trainer);

}  // namespace bert::train
