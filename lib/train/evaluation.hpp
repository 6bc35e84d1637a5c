// A classifier scored on labelled texts: what finetune reports after each epoch and what
// `bertctl evaluate` prints, computed by one loop (longest texts first, batches of batch_size).
//
//   LabelledTexts data = tokenize_labelled(model, rows, max_length, "test.csv");
//   Metrics m = evaluate_classifier(data.texts, data.labels, 32, [&](auto& batch) { return logits(batch); }, L);
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "model/model.hpp"     // Model
#include "text/tokenizer.hpp"  // Encoding
#include "train/dataset.hpp"   // Example
#include "train/metrics.hpp"   // Metrics

namespace bert::train {

struct LabelledTexts {
  std::vector<text::Encoding> texts;
  std::vector<int32_t> labels;  // ids in the model's label order
};

// Tokenizes rows (pairs too) to at most max_length tokens; a label the model does not have is an
// error naming `source` and the row.
LabelledTexts tokenize_labelled(const model::Model& model, const std::vector<Example>& rows, int max_length,
                                const std::string& source);

using LogitsOf = std::function<std::vector<float>(const std::vector<const text::Encoding*>&)>;

// Accuracy, macro-F1, per-class figures, confusion matrix and the mean cross-entropy (no class weights).
Metrics evaluate_classifier(std::span<const text::Encoding> texts, std::span<const int32_t> labels, int batch_size,
                            const LogitsOf& logits_of, int num_labels);

}  // namespace bert::train
