// Shared by the training-oracle tests (../shared/fixtures/train and fixtures/tasks/train-*): the
// optimizer settings of a train_batch.json, and the comparison of every tensor with a reference
// safetensors file at the fixtures' tolerances.
#pragma once
#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "io/safetensors.hpp"
#include "model/model.hpp"
#include "test_support.hpp"
#include "train/trainer.hpp"

namespace bert::test {

inline train::TrainerSettings oracle_settings(const nlohmann::json& t) {
  train::TrainerSettings s;
  s.adamw.lr = t["optimizer"]["lr"].get<double>();
  s.adamw.beta1 = t["optimizer"]["betas"][0].get<double>();
  s.adamw.beta2 = t["optimizer"]["betas"][1].get<double>();
  s.adamw.eps = t["optimizer"]["eps"].get<double>();
  s.adamw.weight_decay = t["optimizer"]["weight_decay"].get<double>();
  s.decay_norm_and_bias = true;  // "applies to all parameters"
  s.max_grad_norm = 0;
  s.schedule = train::Schedule::SCHEDULE_CONSTANT;
  s.total_steps = 3;
  return s;
}

// The tensors whose gradient is analytically zero (rounding noise): train_batch.json's
// noise_dominated_after_adamw, or every attention key bias when the file has no such list.
inline std::set<std::string> noise_dominated(const nlohmann::json& t) {
  std::set<std::string> out;
  if (t.contains("noise_dominated_after_adamw"))
    for (const auto& n : t["noise_dominated_after_adamw"]["names"]) out.insert(n.get<std::string>());
  return out;
}

// Compares every tensor of `weights` with the same-named reference tensor: within `tol`, or within
// `noise_tol` for the noise-dominated ones. A word-embedding matrix stored as selected rows
// (NAME:row_ids, NAME:rows, NAME:row_l2_norms; fixtures/tasks/README.md) is compared on those rows
// and on the norm of every row.
inline void compare_with_reference(const model::Model& model, model::BertWeights weights, const std::string& file,
                                   double tol, double noise_tol, const std::set<std::string>& noise,
                                   const char* what) {
  const io::TensorArchive ref = io::read_safetensors(file);
  size_t compared = 0;
  double worst = 0;
  model::for_each_tensor(model.config, weights, [&](const model::TensorInfo& t, float*& p) {
    const bool is_noise = noise.empty() ? t.name.ends_with("attention.self.key.bias") : noise.count(t.name) > 0;
    const double limit = is_noise ? noise_tol : tol;
    INFO(what << " " << t.name);
    double d = 0;
    if (const io::TensorData* r = ref.find(t.name)) {
      d = max_abs_diff({p, size_t(t.numel())}, io::to_f32(*r), limit, std::string(what) + " " + t.name);
      ++compared;
    } else {
      const io::TensorData* ids = ref.find(t.name + ":row_ids");
      const io::TensorData* rows = ref.find(t.name + ":rows");
      const io::TensorData* norms = ref.find(t.name + ":row_l2_norms");
      REQUIRE_MESSAGE((ids && rows && norms), t.name);
      const int64_t C = t.shape[1];
      const std::vector<float> want_rows = io::to_f32(*rows), want_norms = io::to_f32(*norms);
      const auto* id = reinterpret_cast<const int64_t*>(ids->data);
      std::vector<float> got_rows, got_norms;
      for (int64_t i = 0; i < ids->shape[0]; ++i) got_rows.insert(got_rows.end(), p + id[i] * C, p + (id[i] + 1) * C);
      for (int64_t r = 0; r < t.shape[0]; ++r) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c) s += double(p[r * C + c]) * p[r * C + c];
        got_norms.push_back(float(std::sqrt(s)));
      }
      d = std::max(max_abs_diff(got_rows, want_rows, limit, std::string(what) + " " + t.name + " rows"),
                   max_abs_diff(got_norms, want_norms, limit, std::string(what) + " " + t.name + " row norms"));
      compared += 3;
    }
    CHECK(d <= limit);
    if (!is_noise) worst = std::max(worst, d);
  });
  CHECK(compared == ref.tensors().size());
  MESSAGE(std::string(what) << ": " << compared << " tensors, max abs diff " << worst
                            << " (noise-dominated tensors excluded)");
}

}  // namespace bert::test
