// Inference: batches of tokenized texts through the encoder and the model's heads. The commands
// (encode, classify, fill-mask) hand it encodings and get numbers back; they never do arithmetic.
//
//   bert::model::Inference inf(model);
//   inf.run({&enc_a, &enc_b});                        // pads to the longest, runs the encoder
//   std::vector<float> e = inf.embeddings(Pooling::POOLING_MEAN, /*normalize=*/true);  // (B,C)
//   std::vector<float> logits = inf.classifier_logits();                                // (B,labels)
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "model/encoder.hpp"  // Encoder, EncoderInput
#include "model/model.hpp"    // Model
#include "text/tokenizer.hpp" // Encoding

namespace bert::model {

class Inference {
 public:
  explicit Inference(const Model& model);

  // Right-pads the encodings to the longest (with the pad id, mask 0) and runs the encoder.
  // `on_hidden_state` sees every layer's output (index 0 = embeddings), for tests and debugging.
  const float* run(const std::vector<const text::Encoding*>& batch,
                   const std::function<void(int, const float*)>& on_hidden_state = {});
  // Runs an already padded batch.
  const float* run(const EncoderInput& input, const std::function<void(int, const float*)>& on_hidden_state = {});

  const EncoderInput& input() const { return input_; }
  const float* hidden() const { return hidden_; }  // (B,T,C) of the last run

  std::vector<float> pooler_output();                       // (B,C); needs a pooler
  std::vector<float> embeddings(Pooling pooling, bool normalize);  // (B,C)
  std::vector<float> classifier_logits();                   // (B,labels)
  // The per-token head: (B,T,labels) for token classification, (B,T,2) start/end for QA.
  std::vector<float> token_logits();
  // The per-token head of many encodings (e.g. the windows of long texts), run `batch_size` at a
  // time: one (tokens, outputs) array per encoding.
  std::vector<std::vector<float>> token_logits_of(const std::vector<const text::Encoding*>& encodings, int batch_size);
  // MLM logits (R,V) at the given (batch row, position) pairs.
  std::vector<float> mlm_logits(const std::vector<std::pair<int, int>>& positions);

  const Model& model() const { return model_; }
  // For a run of many batches: weights packed at once, so every batch runs the same kernels and a
  // text gets the same bits in any of them (see ops::PackedWeights).
  void pack_from_first_call() { encoder_.packed_weights()->pack_from_first_call(); }

 private:
  const Model& model_;
  Encoder encoder_;
  EncoderInput input_;
  const float* hidden_ = nullptr;
};

// Probabilities from logits, computed in double: softmax over the span, or an independent sigmoid.
void softmax_inplace(std::span<float> v);
void sigmoid_inplace(std::span<float> v);
double log_sum_exp(std::span<const float> v);
// Indices of the k largest values, largest first (ties: lower index first).
std::vector<int> top_k(std::span<const float> v, int k);

}  // namespace bert::model
