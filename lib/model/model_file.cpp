// Our model file: GGUF v3 with the keys documented in man/bertctl-model.5. Tensor names are the
// Hugging Face parameter names; F32 weights are used in place from the map.
#include <cstring>
#include <set>

#include "core/error.hpp"  // fail_model
#include "core/file.hpp"   // map_pages_now
#include "io/gguf.hpp"     // GgufFile, GgufWriter
#include "model/model.hpp"
#include "ops/quantize.hpp"  // quantize_s8_rows, dequantize_s8_rows
#include "text/utf8.hpp"     // utf8_find_invalid

namespace bert::model {

namespace {

constexpr uint32_t kAlignment = 64;

// Key names (see man/bertctl-model.5). The `bert.*` and `tokenizer.ggml.*` ones follow llama.cpp's
// conventions so other GGUF tools recognise the file; `bertctl.*` are ours.
namespace key {
constexpr const char* kArchitecture = "general.architecture";  // "bert"
constexpr const char* kName = "general.name";
constexpr const char* kFileType = "general.file_type";  // llama.cpp: 0 = all F32, 1 = mostly F16
constexpr const char* kContextLength = "bert.context_length";
constexpr const char* kEmbeddingLength = "bert.embedding_length";
constexpr const char* kBlockCount = "bert.block_count";
constexpr const char* kFeedForwardLength = "bert.feed_forward_length";
constexpr const char* kHeadCount = "bert.attention.head_count";
constexpr const char* kLayerNormEps = "bert.attention.layer_norm_epsilon";
constexpr const char* kPoolingType = "bert.pooling_type";  // llama.cpp: 0 none, 1 mean, 2 cls
constexpr const char* kTokenizerModel = "tokenizer.ggml.model";  // "bert"
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTokenTypeCount = "tokenizer.ggml.token_type_count";
constexpr const char* kUnknownId = "tokenizer.ggml.unknown_token_id";
constexpr const char* kSeparatorId = "tokenizer.ggml.seperator_token_id";  // sic, llama.cpp's spelling
constexpr const char* kPaddingId = "tokenizer.ggml.padding_token_id";
constexpr const char* kClsId = "tokenizer.ggml.cls_token_id";
constexpr const char* kMaskId = "tokenizer.ggml.mask_token_id";
constexpr const char* kFormatVersion = "bertctl.format_version";
constexpr const char* kHfArchitecture = "bertctl.architecture";
constexpr const char* kVocabSize = "bertctl.vocab_size";
constexpr const char* kHiddenAct = "bertctl.hidden_act";
constexpr const char* kPadTokenId = "bertctl.pad_token_id";
constexpr const char* kHiddenDropout = "bertctl.hidden_dropout_prob";
constexpr const char* kAttentionDropout = "bertctl.attention_probs_dropout_prob";
constexpr const char* kClassifierDropout = "bertctl.classifier_dropout";
constexpr const char* kInitializerRange = "bertctl.initializer_range";
constexpr const char* kHasPooler = "bertctl.has_pooler";
constexpr const char* kLabels = "bertctl.labels";
constexpr const char* kMultiLabel = "bertctl.multi_label";
constexpr const char* kPooling = "bertctl.pooling";
constexpr const char* kNormalize = "bertctl.normalize";
constexpr const char* kLowercase = "bertctl.tokenizer.lowercase";
constexpr const char* kStripAccents = "bertctl.tokenizer.strip_accents";  // -1 unset, 0, 1
constexpr const char* kChineseChars = "bertctl.tokenizer.tokenize_chinese_chars";
constexpr const char* kMaxCharsPerWord = "bertctl.tokenizer.max_input_chars_per_word";
constexpr const char* kModelMaxLength = "bertctl.tokenizer.model_max_length";
constexpr const char* kSpecialTokens = "bertctl.tokenizer.special_tokens";  // unk, cls, sep, pad, mask
constexpr const char* kExtraSpecialTokens = "bertctl.tokenizer.extra_special_tokens";
}  // namespace key

uint32_t llama_pooling_type(Pooling p) {
  switch (p) {
    case Pooling::POOLING_MEAN: return 1;
    case Pooling::POOLING_CLS: return 2;
    default: return 0;
  }
}

}  // namespace

void save_model_gguf(const Model& m, const std::string& path, io::DType dtype,
                     const std::function<void(io::GgufWriter&)>& extra) {
  if (dtype != io::DType::DTYPE_F32 && dtype != io::DType::DTYPE_F16 && dtype != io::DType::DTYPE_I8)
    fail_usage("model files hold f32, f16 or int8 weights (got {})", io::dtype_name(dtype));
  if (!m.tokenizer) fail_model("{}: the model has no vocabulary to store", m.source);
  const BertConfig& c = m.config;
  const text::Tokenizer& tok = *m.tokenizer;
  const text::TokenizerConfig& tc = tok.config();
  io::GgufWriter w(kAlignment);
  w.set<std::string>(key::kArchitecture, "bert");
  w.set<std::string>(key::kName, c.hf_class());
  w.set<uint32_t>(key::kFileType, dtype == io::DType::DTYPE_F16 ? 1 : 0);  // int8 has no llama.cpp type: 0
  w.set<uint32_t>(key::kFormatVersion, kModelFormatVersion);
  w.set<uint32_t>(key::kContextLength, uint32_t(c.max_position_embeddings));
  w.set<uint32_t>(key::kEmbeddingLength, uint32_t(c.hidden_size));
  w.set<uint32_t>(key::kBlockCount, uint32_t(c.num_hidden_layers));
  w.set<uint32_t>(key::kFeedForwardLength, uint32_t(c.intermediate_size));
  w.set<uint32_t>(key::kHeadCount, uint32_t(c.num_attention_heads));
  w.set<float>(key::kLayerNormEps, c.layer_norm_eps);
  w.set<uint32_t>(key::kPoolingType, llama_pooling_type(c.pooling));
  w.set<std::string>(key::kHfArchitecture, c.hf_class());
  w.set<uint32_t>(key::kVocabSize, uint32_t(c.vocab_size));
  w.set<std::string>(key::kHiddenAct, activation_name(c.hidden_act));
  w.set<uint32_t>(key::kPadTokenId, uint32_t(c.pad_token_id));
  w.set<float>(key::kHiddenDropout, c.hidden_dropout_prob);
  w.set<float>(key::kAttentionDropout, c.attention_probs_dropout_prob);
  w.set<float>(key::kClassifierDropout, c.classifier_dropout);
  w.set<float>(key::kInitializerRange, c.initializer_range);
  w.set<bool>(key::kHasPooler, c.has_pooler);
  if (c.has_labels()) w.set_array<std::string>(key::kLabels, c.labels);
  if (c.has_classifier()) w.set<bool>(key::kMultiLabel, c.multi_label);
  w.set<std::string>(key::kPooling, pooling_name(c.pooling));
  w.set<bool>(key::kNormalize, c.normalize);
  // Tokenizer.
  w.set<std::string>(key::kTokenizerModel, "bert");
  w.set_array<std::string>(key::kTokens, tok.vocab().tokens());
  w.set<uint32_t>(key::kTokenTypeCount, uint32_t(c.type_vocab_size));
  w.set<uint32_t>(key::kUnknownId, uint32_t(tok.unk_id()));
  w.set<uint32_t>(key::kSeparatorId, uint32_t(tok.sep_id()));
  w.set<uint32_t>(key::kPaddingId, uint32_t(tok.pad_id()));
  w.set<uint32_t>(key::kClsId, uint32_t(tok.cls_id()));
  if (tok.mask_id()) w.set<uint32_t>(key::kMaskId, uint32_t(*tok.mask_id()));
  w.set<bool>(key::kLowercase, tc.lowercase);
  w.set<int32_t>(key::kStripAccents, tc.strip_accents ? int32_t(*tc.strip_accents) : -1);
  w.set<bool>(key::kChineseChars, tc.tokenize_chinese_chars);
  w.set<uint32_t>(key::kMaxCharsPerWord, uint32_t(tc.max_input_chars_per_word));
  w.set<uint32_t>(key::kModelMaxLength, uint32_t(std::max(tc.model_max_length, 0)));
  w.set_array<std::string>(key::kSpecialTokens,
                           {tc.unk_token, tc.cls_token, tc.sep_token, tc.pad_token, tc.mask_token});
  w.set_array<std::string>(key::kExtraSpecialTokens, tc.extra_special_tokens);

  // Tensors in table order (so query, key and value stay adjacent in the file as in memory).
  // F16 halves every tensor; int8 quantizes the linear layers (per output channel) and keeps the
  // rest in f32, writing the scales after all weights so query/key/value scales stay adjacent.
  std::vector<std::vector<uint16_t>> halves;  // keep converted bytes alive until write()
  std::vector<std::vector<int8_t>> bytes;
  std::vector<std::vector<float>> scales;
  std::vector<io::TensorData> scale_tensors;
  BertWeights weights = m.weights;
  for_each_tensor(c, weights, [&](const TensorInfo& t, float*& slot) {
    BERT_CHECK(slot != nullptr);  // int8 inputs are loaded with float weights for saving
    io::TensorData d;
    d.name = t.name;
    d.shape = t.shape;
    if (dtype == io::DType::DTYPE_I8 && quantizable(t.name, int64_t(t.shape.size()))) {
      const int N = int(t.shape[0]), K = int(t.shape[1]);
      bytes.emplace_back(size_t(t.numel()));
      scales.emplace_back(size_t(N));
      ops::quantize_s8_rows(bytes.back().data(), scales.back().data(), slot, N, K);
      d.dtype = io::DType::DTYPE_I8;
      d.data = bytes.back().data();
      d.nbytes = bytes.back().size();
      scale_tensors.push_back(io::TensorData{t.name + ".scale", io::DType::DTYPE_F32, {int64_t(N)},
                                             scales.back().data(), size_t(N) * sizeof(float)});
    } else if (dtype == io::DType::DTYPE_F16) {
      halves.emplace_back(size_t(t.numel()));
      io::from_f32({slot, size_t(t.numel())}, io::DType::DTYPE_F16, halves.back().data());
      d.dtype = io::DType::DTYPE_F16;
      d.data = halves.back().data();
      d.nbytes = halves.back().size() * 2;
    } else {
      d.dtype = io::DType::DTYPE_F32;
      d.data = slot;
      d.nbytes = size_t(t.numel()) * sizeof(float);
    }
    w.add_tensor(d);
  });
  for (const io::TensorData& s : scale_tensors) w.add_tensor(s);
  if (extra) extra(w);
  w.write(path);
}

namespace {

// Strings of a model file go into JSON output and messages: each must be valid UTF-8 (GGUF has no
// checksum; a flipped byte would otherwise reach `classify --format jsonl` as invalid JSON).
std::vector<std::string> utf8_strings(const io::GgufFile& f, const char* key) {
  std::vector<std::string> v = f.get_string_array(key);
  for (size_t i = 0; i < v.size(); ++i)
    if (text::utf8_find_invalid(v[i]) != std::string_view::npos)
      fail_model("{}: {} entry {} is not valid UTF-8", f.path(), key, i);
  return v;
}

BertConfig read_config(const io::GgufFile& f) {
  const std::string& src = f.path();
  if (auto arch = f.get_optional<std::string>(key::kArchitecture); !arch || *arch != "bert")
    fail_model("{}: not a BERT model file (general.architecture is '{}')", src, arch.value_or(""));
  const uint32_t version = f.get_u32(key::kFormatVersion);
  if (version > kModelFormatVersion)
    fail_model("{}: model file format {} is newer than this bertctl supports ({}); upgrade bertctl", src,
               version, kModelFormatVersion);
  BertConfig c;
  const std::string arch = f.get_string(key::kHfArchitecture);
  const TaskSpec* task = find_task_by_class(arch);
  if (!task) fail_model("{}: unsupported architecture '{}'", src, arch);
  c.task = task->task;
  c.vocab_size = int(f.get_u32(key::kVocabSize));
  c.hidden_size = int(f.get_u32(key::kEmbeddingLength));
  c.num_hidden_layers = int(f.get_u32(key::kBlockCount));
  c.num_attention_heads = int(f.get_u32(key::kHeadCount));
  c.intermediate_size = int(f.get_u32(key::kFeedForwardLength));
  c.max_position_embeddings = int(f.get_u32(key::kContextLength));
  c.type_vocab_size = int(f.get_u32(key::kTokenTypeCount));
  c.layer_norm_eps = f.get_f32(key::kLayerNormEps);
  c.hidden_act = parse_activation(f.get_string(key::kHiddenAct), src);
  c.pad_token_id = int(f.get_u32(key::kPadTokenId));
  c.hidden_dropout_prob = f.get_f32(key::kHiddenDropout);
  c.attention_probs_dropout_prob = f.get_f32(key::kAttentionDropout);
  c.classifier_dropout = f.get_f32(key::kClassifierDropout);
  c.initializer_range = f.get_f32(key::kInitializerRange);
  c.has_pooler = f.get_bool(key::kHasPooler);
  if (c.has_labels()) c.labels = utf8_strings(f, key::kLabels);
  if (c.has_classifier()) c.multi_label = f.get_bool(key::kMultiLabel);
  c.pooling = parse_pooling(f.get_string(key::kPooling));
  c.normalize = f.get_bool(key::kNormalize);
  c.validate(src);
  return c;
}

text::Tokenizer read_tokenizer(const io::GgufFile& f) {
  text::TokenizerConfig tc;
  tc.lowercase = f.get_bool(key::kLowercase);
  const int32_t strip = f.get<int32_t>(key::kStripAccents);
  if (strip >= 0) tc.strip_accents = strip != 0;
  tc.tokenize_chinese_chars = f.get_bool(key::kChineseChars);
  tc.max_input_chars_per_word = int(f.get_u32(key::kMaxCharsPerWord));
  tc.model_max_length = int(f.get_u32(key::kModelMaxLength));
  std::vector<std::string> specials = utf8_strings(f, key::kSpecialTokens);
  if (specials.size() != 5) fail_model("{}: {} must list 5 tokens", f.path(), key::kSpecialTokens);
  tc.unk_token = specials[0];
  tc.cls_token = specials[1];
  tc.sep_token = specials[2];
  tc.pad_token = specials[3];
  tc.mask_token = specials[4];
  tc.extra_special_tokens = utf8_strings(f, key::kExtraSpecialTokens);
  return text::Tokenizer(text::Vocab(utf8_strings(f, key::kTokens)), tc);
}

// The int8 tensors of a file, arranged by layer. Query, key and value must be adjacent (weights and
// scales) to run as one fused matmul; files we write always are.
QuantizedWeights collect_quantized(const BertConfig& c, const std::vector<std::pair<std::string, QuantizedLinear>>& all,
                                   const std::string& path) {
  auto find = [&](const std::string& name) {
    for (const auto& [n, q] : all)
      if (n == name) return q;
    return QuantizedLinear{};
  };
  const std::string p = name_prefix(c.task);
  const int64_t C = c.hidden_size;
  QuantizedWeights out;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string n = p + "encoder.layer." + std::to_string(l) + ".";
    QuantizedWeights::Layer layer;
    const QuantizedLinear q = find(n + "attention.self.query.weight"), k = find(n + "attention.self.key.weight"),
                          v = find(n + "attention.self.value.weight");
    if (!q || !k || !v || k.weight != q.weight + C * C || v.weight != k.weight + C * C || k.scale != q.scale + C ||
        v.scale != k.scale + C)
      fail_model("{}: layer {}: the int8 query, key and value weights must be stored adjacent, with their scales", path,
                 l);
    layer.qkv = q;
    layer.attention_output = find(n + "attention.output.dense.weight");
    layer.intermediate = find(n + "intermediate.dense.weight");
    layer.output = find(n + "output.dense.weight");
    if (!layer.attention_output || !layer.intermediate || !layer.output)
      fail_model("{}: layer {}: int8 files quantize every linear layer of the encoder", path, l);
    out.layers.push_back(layer);
  }
  out.pooler = find(p + "pooler.dense.weight");
  out.mlm_transform = find("cls.predictions.transform.dense.weight");
  return out;
}

}  // namespace

Model load_model_gguf(const std::string& path, const LoadOptions& options) {
  auto file = std::make_shared<io::GgufFile>(path);
  Model m;
  m.source = path;
  m.config = read_config(*file);
  m.tokenizer.emplace(read_tokenizer(*file));
  if (m.tokenizer->vocab().size() > size_t(m.config.vocab_size))
    fail_model("{}: the vocabulary has {} tokens but vocab_size is {}", path, m.tokenizer->vocab().size(),
               m.config.vocab_size);

  // F32 tensors are used in place from the read-only map; others are converted into our storage
  // (whose untouched pages cost nothing). Int8 linear layers stay int8 for inference unless float
  // weights are asked for (training, conversion).
  const io::TensorArchive& ar = file->tensors();
  const bool want_float = options.writable || options.float_weights;
  // Small tensors (biases, norms, the classifier: ~1% of the bytes) are always checked.
  file->verify_checksums(want_float || options.verify ? SIZE_MAX : size_t(64) << 10);
  // Shapes are checked before the storage is sized from the metadata (which can claim anything),
  // and every tensor of the file must be one the metadata uses: a wrong bert.block_count would
  // otherwise drop layers silently.
  std::set<std::string, std::less<>> expected;
  const bool checkpoint = file->find("bertctl.train.step") != nullptr;
  for (const TensorInfo& t : tensor_table(m.config)) {
    const io::TensorData* d = ar.find(t.name);
    if (!d) fail_model("{}: missing tensor '{}'", path, t.name);
    if (d->shape != t.shape)
      fail_model("{}: shape mismatch for {}: the file has {}, the config says {}", path, t.name,
                 io::shape_string(d->shape), io::shape_string(t.shape));
    expected.insert(t.name);
    if (d->dtype == io::DType::DTYPE_I8) expected.insert(t.name + ".scale");
    if (checkpoint) expected.insert({"m." + t.name, "v." + t.name});  // AdamW's moments (train/checkpoint.cpp)
  }
  for (const io::TensorData& d : ar.tensors())
    if (!expected.contains(d.name))
      fail_model("{}: tensor '{}' is not part of the model the metadata describes ({} layers, {}); the metadata "
                 "is corrupt",
                 path, d.name, m.config.num_hidden_layers, m.config.hf_class());
  m.storage = WeightStorage(m.config, m.weights, /*zeroed=*/false);
  BertWeights owned = m.weights;  // the storage slots, kept while m.weights is re-pointed
  std::vector<float*> owned_slots;
  for_each_tensor(m.config, owned, [&](const TensorInfo&, float*& p) { owned_slots.push_back(p); });
  std::vector<std::pair<std::string, QuantizedLinear>> quantized;
  size_t index = 0;
  for_each_tensor(m.config, m.weights, [&](const TensorInfo& t, float*& slot) {
    float* own = owned_slots[index++];
    const io::TensorData* d = ar.find(t.name);
    if (d->dtype != io::DType::DTYPE_F32) m.stored_dtype = d->dtype;
    if (d->dtype == io::DType::DTYPE_I8) {
      const io::TensorData* s = ar.find(t.name + ".scale");
      if (!quantizable(t.name, int64_t(t.shape.size())) || !s || s->dtype != io::DType::DTYPE_F32 ||
          s->shape != std::vector<int64_t>{t.shape[0]})
        fail_model("{}: int8 tensor '{}' needs an F32 '{}.scale' of shape [{}]", path, t.name, t.name, t.shape[0]);
      QuantizedLinear q{static_cast<const int8_t*>(d->data), static_cast<const float*>(s->data)};
      if (want_float) {
        ops::dequantize_s8_rows(own, q.weight, q.scale, int(t.shape[0]), int(t.shape[1]));
        slot = own;
      } else {
        quantized.emplace_back(t.name, q);
        slot = nullptr;  // this layer runs in int8
        if (options.map_now) map_pages_now(d->data, d->nbytes), map_pages_now(s->data, s->nbytes);
      }
    } else if (d->dtype == io::DType::DTYPE_F32 && !options.writable) {
      slot = static_cast<float*>(const_cast<void*>(d->data));  // read-only map: never written through
      // The word embeddings are read a row per token: their pages are better left to faults.
      if (options.map_now && &slot != &m.weights.word_embeddings) map_pages_now(d->data, d->nbytes);
    } else {
      io::to_f32(*d, {own, size_t(t.numel())});
      slot = own;
    }
  });
  // Fused QKV reads query, key and value as one matrix: when the file's tensors are not adjacent
  // (it never happens with files we write, whose sizes keep the alignment), copy them together.
  const int64_t C = m.config.hidden_size;
  for (size_t l = 0; l < m.weights.layers.size(); ++l) {
    LayerWeights& lw = m.weights.layers[l];
    const LayerWeights& ow = owned.layers[l];
    auto adjacent = [&](const float* a, const float* b, const float* c, int64_t n) { return b == a + n && c == b + n; };
    if (lw.query_weight && !adjacent(lw.query_weight, lw.key_weight, lw.value_weight, C * C)) {
      for (auto [src, dst] : {std::pair{lw.query_weight, ow.query_weight}, {lw.key_weight, ow.key_weight},
                              {lw.value_weight, ow.value_weight}})
        if (src != dst) std::memcpy(dst, src, size_t(C * C) * sizeof(float));
      lw.query_weight = ow.query_weight, lw.key_weight = ow.key_weight, lw.value_weight = ow.value_weight;
    }
    if (!adjacent(lw.query_bias, lw.key_bias, lw.value_bias, C)) {
      for (auto [src, dst] : {std::pair{lw.query_bias, ow.query_bias}, {lw.key_bias, ow.key_bias},
                              {lw.value_bias, ow.value_bias}})
        if (src != dst) std::memcpy(dst, src, size_t(C) * sizeof(float));
      lw.query_bias = ow.query_bias, lw.key_bias = ow.key_bias, lw.value_bias = ow.value_bias;
    }
  }
  if (!quantized.empty()) m.quantized = collect_quantized(m.config, quantized, path);
  m.mapping = file;
  return m;
}

}  // namespace bert::model
