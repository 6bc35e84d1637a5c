// Classification metrics from predictions and gold labels: accuracy, macro-F1, per-class
// precision/recall/F1/support and the confusion matrix (rows: true label, columns: predicted), as
// scikit-learn defines them (a class never predicted has precision 0).
//
//   Metrics m = compute_metrics(gold, predicted, labels.size());
//   std::string table = format_metrics(m, labels);   // the small table finetune prints
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "train/task_metrics.hpp"  // EntityScores, SquadScores

namespace bert::train {

struct Metrics {
  double loss = 0;
  double accuracy = 0;
  double macro_f1 = 0;
  std::vector<double> precision, recall, f1;
  std::vector<int64_t> support;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  int64_t count = 0;
  // Token classification: strict-IOB2 entity scores (accuracy is then per word); question
  // answering: SQuAD exact match and F1. Absent for sequence classification.
  std::optional<EntityScores> entities;
  std::optional<SquadScores> squad;

  // The metric --keep-best names, larger is better: accuracy, macro_f1, f1 (entity or SQuAD),
  // exact_match, or loss (negated).
  double value(const std::string& name) const;
};

Metrics compute_metrics(std::span<const int32_t> gold, std::span<const int32_t> predicted, int num_labels);

std::string format_metrics(const Metrics& m, const std::vector<std::string>& labels);
std::string metrics_json(const Metrics& m, const std::vector<std::string>& labels);  // one JSON object

}  // namespace bert::train
