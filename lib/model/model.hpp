// Model: everything needed to run a BERT model — its config, its weights and its tokenizer — loaded
// from our GGUF model file (weights mapped, not read) or from a Hugging Face checkpoint directory
// (converted on the fly), and saved back to either.
//
//   bert::model::Model m = bert::model::load_model("model.gguf");      // or an HF directory
//   m.tokenizer->encode("hello");  m.config.hidden_size;  m.weights.word_embeddings;
//   bert::model::save_model_gguf(m, "out.gguf", bert::io::DType::DTYPE_F16);
//   bert::model::save_model_hf(m, "out_dir");                          // config.json, model.safetensors, ...
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/tensor_archive.hpp"   // DType
#include "model/bert_config.hpp"   // BertConfig
#include "model/bert_weights.hpp"  // BertWeights, WeightStorage
#include "text/tokenizer.hpp"      // Tokenizer

namespace bert::io {
class GgufWriter;
}

namespace bert::model {

struct Model {
  BertConfig config;
  BertWeights weights;
  std::optional<text::Tokenizer> tokenizer;
  std::string source;                      // the path it was loaded from, for messages
  io::DType stored_dtype = io::DType::DTYPE_F32;  // dtype of the weights in the source file
  std::vector<std::string> notes;          // what loading ignored or adjusted (printed by convert/info)

  // Int8 linear layers of an int8 model file (empty otherwise); their BertWeights slots are null.
  QuantizedWeights quantized;

  // Where the floats live: our own buffer, and/or a mapped model file the weights point into.
  WeightStorage storage;
  std::shared_ptr<const void> mapping;
};

struct LoadOptions {
  // Copy the weights into owned, writable memory (training); otherwise f32 weights of a model
  // file are used in place from the read-only map.
  bool writable = false;
  // Dequantize int8 linear layers into float (conversion); otherwise they stay int8.
  bool float_weights = false;
  // Map every page of the weights used in place at load (inference, which reads them all anyway):
  // far cheaper than the page faults of a first forward pass (see map_pages_now).
  bool map_now = false;
  // Compare every tensor with the file's checksums (always done for writable or float weights,
  // which copy every byte anyway; `info --verify` asks for it).
  bool verify = false;
};

// A GGUF model file or a Hugging Face checkpoint directory; throws ERROR_MODEL / ERROR_IO naming
// the file and the problem.
Model load_model(const std::string& path, const LoadOptions& options = {});
Model load_model_gguf(const std::string& path, const LoadOptions& options = {});
Model load_hf_checkpoint(const std::string& dir);
bool is_hf_checkpoint_dir(const std::string& path);

// A model with fresh zero weights for `config` (the caller initialises them) and the tokenizer.
Model make_model(const BertConfig& config, text::Tokenizer tokenizer);

// Writes our model file (F32, F16 or I8 weights; I8 quantizes the linear layers per output channel
// and keeps embeddings, norms, biases and the task heads in f32), atomically. `extra` may add keys and tensors of
// its own (training checkpoints add the optimizer state) before the file is written.
void save_model_gguf(const Model& model, const std::string& path, io::DType dtype = io::DType::DTYPE_F32,
                     const std::function<void(io::GgufWriter&)>& extra = {});
// Writes config.json, model.safetensors, vocab.txt, tokenizer_config.json, special_tokens_map.json
// into `dir` (created if needed), each file atomically, and removes files of an earlier checkpoint
// there that loaders would prefer to these (tokenizer.json, pytorch_model.bin, shard indexes,
// modules.json).
void save_model_hf(const Model& model, const std::string& dir);

// Version of our model-file layout (key "bertctl.format_version"); readers refuse newer files.
constexpr uint32_t kModelFormatVersion = 1;

}  // namespace bert::model
