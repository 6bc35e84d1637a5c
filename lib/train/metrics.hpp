// Classification metrics from predictions and gold labels: accuracy, macro-F1, per-class
// precision/recall/F1/support and the confusion matrix (rows: true label, columns: predicted), as
// scikit-learn defines them (a class never predicted has precision 0).
//
//   Metrics m = compute_metrics(gold, predicted, labels.size());
//   std::string table = format_metrics(m, labels);   // the small table finetune prints
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bert::train {

struct Metrics {
  double loss = 0;
  double accuracy = 0;
  double macro_f1 = 0;
  std::vector<double> precision, recall, f1;
  std::vector<int64_t> support;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  int64_t count = 0;
};

Metrics compute_metrics(std::span<const int32_t> gold, std::span<const int32_t> predicted, int num_labels);

std::string format_metrics(const Metrics& m, const std::vector<std::string>& labels);
std::string metrics_json(const Metrics& m, const std::vector<std::string>& labels);  // one JSON object

}  // namespace bert::train
