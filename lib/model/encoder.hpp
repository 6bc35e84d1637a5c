// Encoder: BertEmbeddings + BertEncoder (N × BertLayer) forward and backward, mirroring
// transformers' modeling_bert.py module by module. Activations are named after the Hugging Face
// modules that produce them and allocated once per batch shape; the backward pass is the forward
// read in reverse.
//
//   Encoder enc(config, weights, /*training=*/false);
//   const float* hidden = enc.forward(batch);             // (B,T,C) last_hidden_state
//   // training: enc.forward(batch, {.training = true, .dropout_seed = s}); enc.backward(d_hidden, grads);
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/page_buffer.hpp"    // PageBuffer
#include "model/bert_config.hpp"   // BertConfig
#include "model/bert_weights.hpp"  // BertWeights
#include "text/tokenizer.hpp"      // Encoding
#include "ops/ops.hpp"             // PackedWeights

namespace bert::model {

// A right-padded batch of token ids, all (B,T) row-major.
struct EncoderInput {
  int B = 0, T = 0;
  std::vector<int32_t> input_ids;
  std::vector<int32_t> token_type_ids;
  std::vector<uint8_t> attention_mask;  // 1 = token, 0 = padding
};

// Right-pads tokenized texts to the longest into one batch (padding: `pad_id`, mask 0).
EncoderInput make_encoder_input(const std::vector<const text::Encoding*>& encodings, int32_t pad_id);

struct ForwardOptions {
  bool training = false;     // apply dropout (needs an Encoder built for training)
  uint64_t dropout_seed = 0; // masks are a pure function of (seed, site, index): reproducible
  // Called with index 0 for the embedding output and k for the output of layer k, each (B,T,C).
  std::function<void(int index, const float* hidden)> on_hidden_state;
};

class Encoder {
 public:
  // A training encoder keeps every layer's activations for backward(); an inference encoder keeps
  // one layer's worth and reads weights through oneDNN's packed-weight cache.
  // `quantized` (inference only, may be null or empty) runs those linear layers in int8.
  Encoder(const BertConfig& config, const BertWeights& weights, bool training,
          const QuantizedWeights* quantized = nullptr);

  const float* forward(const EncoderInput& input, const ForwardOptions& options = {});

  // d_hidden (B,T,C): gradient of the loss w.r.t. the last forward()'s output. Accumulates into
  // `grads` (same layout as the weights; the word-embedding padding row gets none, as with
  // nn.Embedding(padding_idx)). Only after a forward() with training = true.
  void backward(const float* d_hidden, BertWeights& grads);

  // Layers below this index get no gradient and their backward is skipped (fine-tuning only the
  // top layers); -1 = all layers train, and the embeddings too.
  void set_first_trainable_layer(int layer) { first_trainable_layer_ = layer; }

  const BertConfig& config() const { return config_; }
  // The packed-weight cache of an inference encoder (null when training), shared with the heads.
  ops::PackedWeights* packed_weights() const { return packed_.get(); }

 private:
  struct LayerActivations {
    float* input;             // (M,C) the hidden state entering the layer (not owned)
    float* qkv;               // (M,3C) attention.self query|key|value
    float* attention_probs;   // (B,H,T,T) softmax, before dropout
    float* attention_dropout; // (B,H,T,T) dropout mask on the probabilities, or null
    float* context;           // (M,C) self-attention output
    float* attention_residual;// (M,C) attention.output: dropout(dense(context)) + input, before LayerNorm
    float* attention_hidden_dropout;  // (M,C) or null
    float* attention_output;  // (M,C) after attention.output.LayerNorm
    float* attention_mean;    // (M)
    float* attention_var;     // (M)
    float* intermediate_pre;  // (M,I) intermediate.dense before the activation (training only)
    float* intermediate;      // (M,I) after the activation
    float* output_residual;   // (M,C) output: dropout(dense(intermediate)) + attention_output
    float* output_hidden_dropout;     // (M,C) or null
    float* layer_output;      // (M,C) after output.LayerNorm
    float* output_mean;       // (M)
    float* output_var;        // (M)
  };

  void allocate(int B, int T, bool training);
  // Sequences whose attention scores are computed at once (all of them when training).
  int attention_chunk(int B, int T) const;
  // int8 inference on a CPU with native bfloat16 runs attention in bfloat16.
  bool bf16_attention() const { return quantized_ != nullptr && ops::has_native_bf16(); }
  static constexpr size_t kAttentionScratchBytes = 16 << 20;
  // Inference rows are a multiple of this (packed batches) and never fewer (a kernel block).
  static constexpr int kPackRows = 16;
  void embeddings_forward(const EncoderInput& in, bool training);
  void pack_rows();
  void unpack_rows(float* to, const float* from) const;
  void layer_forward(int l, LayerActivations& a, bool training);
  void embeddings_backward(const float* d_embedding_output, BertWeights& grads);
  void layer_backward(int l, LayerActivations& a, const float* d_layer_output, float* d_input, BertWeights& grads);
  ops::LinearWeights linear(const float* w, const float* b, int in, int out, const QuantizedLinear& q = {}) const;
  void make_dropout_mask(float* mask, size_t n, float p, uint64_t site);

  BertConfig config_;
  BertWeights weights_;
  bool training_capable_;
  std::unique_ptr<ops::PackedWeights> packed_;  // inference only
  const QuantizedWeights* quantized_ = nullptr;  // inference only; null or empty: all float
  int first_trainable_layer_ = -1;

  // Batch shape of the current allocation and of the last forward.
  int B_ = 0, T_ = 0;
  bool trained_forward_ = false;
  uint64_t dropout_seed_ = 0;
  PageBuffer arena_;
  const EncoderInput* input_ = nullptr;
  std::vector<int32_t> input_ids_, token_type_ids_;  // copies kept for the embedding backward
  float* mask_add_ = nullptr;           // (B,T) 0 or float32 min
  std::vector<int> lengths_;            // (B) real tokens of each sequence
  bool right_padded_ = false;           // every mask is a run of ones, then zeros
  // The rows the layers run on: (B·T) padded, or fewer with the real tokens packed (see pack_rows).
  std::vector<int> offsets_;            // (B) sequence b's first row
  int rows_ = 0;
  bool packed_rows_ = false;
  float* embeddings_sum_ = nullptr;     // (M,C) word + position + token type
  float* embeddings_norm_ = nullptr;    // (M,C) after embeddings.LayerNorm
  float* embeddings_mean_ = nullptr;
  float* embeddings_var_ = nullptr;
  float* embeddings_dropout_ = nullptr; // (M,C) or null
  float* embedding_output_ = nullptr;   // (M,C)
  float* hidden_[2] = {nullptr, nullptr};  // (M,C) inference's layer outputs alternate between these;
                                           // backward's gradients between layers likewise
  float* scratch_ = nullptr;            // (M,max(C,I)) temporaries
  std::vector<LayerActivations> layers_;
  // Backward buffers.
  float* d_a_ = nullptr;                // (M,C)
  float* d_b_ = nullptr;                // (M,C)
  float* d_c_ = nullptr;                // (M,C)
  float* d_inter_ = nullptr;            // (M,I)
  float* d_inter_pre_ = nullptr;        // (M,I)
  float* d_qkv_ = nullptr;              // (M,3C)
  float* d_probs_ = nullptr;            // (B,H,T,T)
};

}  // namespace bert::model
