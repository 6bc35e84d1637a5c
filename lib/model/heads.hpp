// The heads on top of the encoder, as in modeling_bert.py: BertPooler (tanh(dense(h[CLS]))),
// BertLMPredictionHead (dense → act → LayerNorm → decoder tied to the word embeddings + bias),
// the tasks' linear heads (task.hpp), and sentence-embedding pooling. `packed`
// (null in training) caches the frozen weights in oneDNN's layout.
//
//   pooler_forward(pooled, cls_rows, hidden, B, T, config, weights, &packed);
//   linear_head_forward(logits, pooled, B, config, weights, &packed);     // or every token: B·T rows
//   mlm_head_forward(logits, rows, R, config, weights, &packed);   // logits (R, V)
#pragma once
#include <cstdint>
#include <vector>

#include "model/bert_config.hpp"   // BertConfig, Pooling
#include "model/bert_weights.hpp"  // BertWeights
#include "ops/ops.hpp"              // PackedWeights

namespace bert::model {

// pooled (B,C) = tanh(cls_rows·Wᵀ + b); cls_rows (B,C) receives hidden[:, 0] (kept for backward).
void pooler_forward(float* pooled, float* cls_rows, const float* hidden, int B, int T, const BertConfig& config,
                    const BertWeights& weights, ops::PackedWeights* packed, const QuantizedLinear& quantized = {});
// d_hidden (B,T,C) += at position 0; accumulates pooler grads.
void pooler_backward(float* d_hidden, BertWeights& grads, const float* d_pooled, const float* pooled,
                     const float* cls_rows, int B, int T, const BertConfig& config, const BertWeights& weights);

// The task's linear head (classifier, qa_outputs): logits (R, outputs) = rows·Wᵀ + b, where a row
// is a pooled sequence (sequence classification) or a token (token classification, QA).
void linear_head_forward(float* logits, const float* rows, int R, const BertConfig& config,
                         const BertWeights& weights, ops::PackedWeights* packed);
// d_rows (R,C) += d_logits·W; accumulates the head's gradients.
void linear_head_backward(float* d_rows, BertWeights& grads, const float* d_logits, const float* rows, int R,
                          const BertConfig& config, const BertWeights& weights);

// logits (R, V) for R hidden rows (R,C): only the rows asked for, since V·C is the largest matmul.
void mlm_head_forward(float* logits, const float* rows, int R, const BertConfig& config, const BertWeights& weights,
                      ops::PackedWeights* packed, const QuantizedLinear& quantized = {});

// Sentence embedding of each text (B,C) from hidden (B,T,C) and the attention mask (B,T):
// CLS row, mean or max over real tokens (Hugging Face / sentence-transformers semantics), or the
// pooler output (pass it in `pooled`). L2-normalised when `normalize`.
void pool_embeddings(float* out, const float* hidden, const uint8_t* attention_mask, const float* pooled, int B,
                     int T, int C, Pooling pooling, bool normalize);

}  // namespace bert::model
