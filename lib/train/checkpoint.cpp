#include "train/checkpoint.hpp"

#include <cstring>

#include "core/error.hpp"  // fail_model
#include "io/gguf.hpp"     // GgufWriter, GgufFile

namespace bert::train {

namespace {

constexpr const char* kStep = "bertctl.train.step";
constexpr const char* kEpoch = "bertctl.train.epoch";
constexpr const char* kMicro = "bertctl.train.micro_in_epoch";
constexpr const char* kBest = "bertctl.train.best_metric";
constexpr const char* kHasBest = "bertctl.train.has_best";
constexpr const char* kSettings = "bertctl.train.settings";

void add_moment(io::GgufWriter& w, const model::BertConfig& c, model::BertWeights moment, const char* prefix) {
  model::for_each_tensor(c, moment, [&](const model::TensorInfo& t, float*& p) {
    w.add_tensor(io::TensorData{prefix + t.name, io::DType::DTYPE_F32, t.shape, p, size_t(t.numel()) * sizeof(float)});
  });
}

void read_moment(const io::GgufFile& f, const model::BertConfig& c, model::BertWeights moment, const char* prefix) {
  model::for_each_tensor(c, moment, [&](const model::TensorInfo& t, float*& p) {
    const io::TensorData* d = f.tensors().find(prefix + t.name);
    if (!d || d->dtype != io::DType::DTYPE_F32 || d->shape != t.shape)
      fail_model("{}: not a training checkpoint of this model (tensor '{}{}' missing or wrong)", f.path(), prefix,
                 t.name);
    std::memcpy(p, d->data, d->nbytes);
  });
}

}  // namespace

void save_checkpoint(const std::string& path, const model::Model& model, Trainer& trainer, const TrainState& s) {
  model::save_model_gguf(model, path, io::DType::DTYPE_F32, [&](io::GgufWriter& w) {
    w.set<int64_t>(kStep, s.step);
    w.set<int64_t>(kEpoch, s.epoch);
    w.set<int64_t>(kMicro, s.micro_in_epoch);
    w.set<double>(kBest, s.best_metric);
    w.set<bool>(kHasBest, s.has_best);
    w.set<std::string>(kSettings, s.run_settings);
    add_moment(w, model.config, trainer.first_moment(), "m.");
    add_moment(w, model.config, trainer.second_moment(), "v.");
  });
}

bool is_checkpoint(const std::string& path) { return io::GgufFile(path).find(kStep) != nullptr; }

std::string checkpoint_settings(const std::string& path) {
  io::GgufFile f(path);
  if (!f.find(kSettings)) fail_model("{}: not a training checkpoint (no run settings)", path);
  return f.get<std::string>(kSettings);
}

TrainState restore_checkpoint(const std::string& path, Trainer& trainer) {
  io::GgufFile f(path);
  if (!f.find(kStep)) fail_model("{}: not a training checkpoint (no optimizer state)", path);
  TrainState s;
  s.step = f.get<int64_t>(kStep);
  s.epoch = f.get<int64_t>(kEpoch);
  s.micro_in_epoch = f.get<int64_t>(kMicro);
  s.best_metric = f.get<double>(kBest);
  s.has_best = f.get<bool>(kHasBest);
  s.run_settings = f.get<std::string>(kSettings);
  // The moments must match the model the trainer holds, which was loaded from this same file.
  const model::Model& m = trainer.model();
  read_moment(f, m.config, trainer.first_moment(), "m.");
  read_moment(f, m.config, trainer.second_moment(), "v.");
  trainer.set_steps_done(s.step);
  return s;
}

}  // namespace bert::train
