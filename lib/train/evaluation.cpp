#include "train/evaluation.hpp"

#include <algorithm>
#include <map>
#include <numeric>

#include "core/error.hpp"  // fail_input
#include "train/loss.hpp"  // cross_entropy

namespace bert::train {

LabelledTexts tokenize_labelled(const model::Model& model, const std::vector<Example>& rows, int max_length,
                                const std::string& source) {
  std::map<std::string, int32_t> ids;
  for (size_t i = 0; i < model.config.labels.size(); ++i) ids[model.config.labels[i]] = int32_t(i);
  text::EncodeOptions eo;
  eo.max_length = max_length;
  LabelledTexts out;
  out.texts.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Example& e = rows[i];
    const auto it = ids.find(e.label);
    if (it == ids.end()) fail_input("{} row {}: label '{}' is not one of the model's labels", source, e.row, e.label);
    out.labels.push_back(it->second);
    if (e.text_pair.empty())
      model.tokenizer->encode_into(e.text, eo, out.texts[i]);
    else
      model.tokenizer->encode_pair_into(e.text, e.text_pair, eo, out.texts[i]);
  }
  return out;
}

Metrics evaluate_classifier(std::span<const text::Encoding> texts, std::span<const int32_t> gold, int batch_size,
                            const LogitsOf& logits_of, int num_labels) {
  const size_t n = texts.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return texts[a].ids.size() > texts[b].ids.size(); });
  std::vector<int32_t> predicted(n);
  double loss_sum = 0;
  for (size_t start = 0; start < n; start += size_t(batch_size)) {
    const size_t end = std::min(n, start + size_t(batch_size));
    std::vector<const text::Encoding*> batch;
    std::vector<int32_t> labels;
    for (size_t i = start; i < end; ++i) {
      batch.push_back(&texts[order[i]]);
      labels.push_back(gold[order[i]]);
    }
    const std::vector<float> logits = logits_of(batch);
    std::vector<float> scratch(logits.size());
    loss_sum += cross_entropy(scratch, logits, labels, num_labels) * double(end - start);
    for (size_t i = start; i < end; ++i) {
      const float* row = logits.data() + (i - start) * size_t(num_labels);
      predicted[order[i]] = int32_t(std::max_element(row, row + num_labels) - row);
    }
  }
  Metrics m = compute_metrics(gold, predicted, num_labels);
  m.loss = n ? loss_sum / double(n) : 0;
  return m;
}

}  // namespace bert::train
