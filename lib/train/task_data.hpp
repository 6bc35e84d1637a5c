// What a fine-tuning run trains on and how it is scored, per task: the training and evaluation
// features (task_features.hpp) and an evaluation that turns the model's predictions on the
// evaluation features into the task's metrics (accuracy and macro-F1; entity F1; SQuAD EM and F1).
//
//   TaskData d = token_classification_data(model, train_sentences, eval_sentences, 128);
//   FinetuneRun run(model, std::move(d), config);
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "model/encoder.hpp"        // EncoderInput
#include "model/model.hpp"          // Model
#include "train/dataset.hpp"        // Example
#include "train/metrics.hpp"        // Metrics
#include "train/task_datasets.hpp"  // TaggedSentence, SquadQuestion
#include "train/task_features.hpp"  // Feature

namespace bert::train {

// The task head's logits of a padded batch: the trainer's predict() or an Inference.
using HeadLogits = std::function<std::vector<float>(const model::EncoderInput&)>;

struct TaskData {
  std::vector<Feature> train, eval;
  uint64_t hash = 0xcbf29ce484222325ull;  // of the training examples, for resumption checks
  size_t examples = 0;                    // training examples (QA: questions; features may be more)
  size_t truncated = 0;                   // training examples cut to max_length
  // Metrics of the model on the evaluation features (`eval` above, loss included), predicting
  // `batch_size` features at a time.
  std::function<Metrics(const HeadLogits&, const std::vector<Feature>& eval, int batch_size)> evaluate;
};

TaskData classification_data(const model::Model& model, const std::vector<Example>& train,
                             const std::vector<Example>& eval, int max_length);
TaskData token_classification_data(const model::Model& model, const std::vector<TaggedSentence>& train,
                                   const std::vector<TaggedSentence>& eval, int max_length);
TaskData question_answering_data(const model::Model& model, const std::vector<SquadQuestion>& train,
                                 const std::vector<SquadQuestion>& eval, int max_length, int doc_stride);

// Predictions of every feature (rows × outputs of the task head) and the mean loss over the
// batches, longest features first.
std::vector<std::vector<float>> predict_features(const model::BertConfig& config, const HeadLogits& logits_of,
                                                 const std::vector<Feature>& features, int batch_size,
                                                 double* mean_loss);

}  // namespace bert::train
