// Hugging Face checkpoint directories: config.json + weights (model.safetensors, sharded
// safetensors, or pytorch_model.bin) + tokenizer files, and sentence-transformers' pooling and
// normalisation modules. Import maps every tensor of the table in bert_weights.cpp by name, checks
// its shape, and converts it to f32; export writes what transformers' from_pretrained reads.
#include <filesystem>

#include <fmt/ranges.h>  // fmt::join
#include <nlohmann/json.hpp>  // json

#include "core/error.hpp"        // fail_model
#include "core/file.hpp"         // read_file, AtomicFile
#include "core/json.hpp"         // try_parse_json (bounded nesting)
#include "io/safetensors.hpp"    // read_safetensors, write_safetensors
#include "io/gguf.hpp"           // (GGUF magic check in load_model)
#include "io/torch_checkpoint.hpp"  // read_torch_checkpoint
#include "model/model.hpp"

namespace bert::model {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_hf_checkpoint_dir(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

namespace {

io::TensorArchive read_weights(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return io::read_safetensors((dir / "model.safetensors").string());
  if (fs::exists(dir / "model.safetensors.index.json"))
    return io::read_safetensors_index((dir / "model.safetensors.index.json").string());
  if (fs::exists(dir / "pytorch_model.bin")) return io::read_torch_checkpoint((dir / "pytorch_model.bin").string());
  if (fs::exists(dir / "pytorch_model.bin.index.json"))
    fail_model("{}: sharded pytorch_model.bin checkpoints are not supported; convert them to safetensors",
               dir.string());
  fail_model("{}: no weights found (expected model.safetensors, model.safetensors.index.json or pytorch_model.bin)",
             dir.string());
}

// Where the tensor `name` of our table is in the checkpoint: the same key, or the key with the
// "bert." prefix added or removed (BertModel checkpoints have none, task models have it).
const io::TensorData* find_tensor(const io::TensorArchive& ar, const std::string& name) {
  if (const io::TensorData* d = ar.find(name)) return d;
  if (name.starts_with("bert.")) return ar.find(name.substr(5));
  if (!name.starts_with("cls.") && !name.starts_with("classifier.") && !name.starts_with("qa_outputs."))
    return ar.find("bert." + name);
  return nullptr;
}

// sentence-transformers: modules.json lists Transformer, Pooling and Normalize modules.
void read_sentence_transformers(const fs::path& dir, BertConfig& config, int& max_seq_length,
                                std::vector<std::string>& notes) {
  const fs::path modules_path = dir / "modules.json";
  if (!fs::exists(modules_path)) return;
  json modules;
  if (std::string err = try_parse_json(read_file(modules_path.string()), modules); !err.empty())
    fail_model("{}: malformed JSON: {}", modules_path.string(), err);
  if (!modules.is_array()) fail_model("{}: expected a list of modules", modules_path.string());
  bool has_pooling = false;
  config.normalize = false;
  for (const json& m : modules) {
    auto text = [&](const char* key) {
      const auto it = m.is_object() ? m.find(key) : m.end();
      if (!m.is_object() || (it != m.end() && !it->is_string()))
        fail_model("{}: each module must be an object whose \"type\" and \"path\" are strings", modules_path.string());
      return it == m.end() ? std::string() : it->get<std::string>();
    };
    const std::string type = text("type"), path = text("path");
    if (type.ends_with("models.Pooling")) {
      const fs::path pc = dir / path / "config.json";
      json p;
      if (std::string err = try_parse_json(read_file(pc.string()), p); !err.empty()) fail_model("{}: malformed JSON: {}", pc.string(), err);
      // sentence-transformers concatenates every enabled mode (a 2H vector for cls + mean); taking
      // one of them would give other embeddings than the model's.
      std::vector<std::string> enabled;
      for (const char* mode : {"cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens", "weightedmean_tokens",
                                "lasttoken"})
        if (const auto it = p.find(std::string("pooling_mode_") + mode); it != p.end() && it->is_boolean() && it->get<bool>())
          enabled.push_back(mode);
      if (enabled.size() > 1)
        fail_model("{}: {} pooling modes are enabled ({}); sentence-transformers concatenates them, which bertctl "
                   "does not support: enable one",
                   pc.string(), enabled.size(), fmt::join(enabled, ", "));
      const std::string mode = enabled.empty() ? "" : enabled.front();
      if (mode == "cls_token")
        config.pooling = Pooling::POOLING_CLS;
      else if (mode == "max_tokens")
        config.pooling = Pooling::POOLING_MAX;
      else if (mode == "mean_tokens")
        config.pooling = Pooling::POOLING_MEAN;
      else
        fail_model("{}: only cls, mean or max pooling is supported", pc.string());
      has_pooling = true;
    } else if (type.ends_with("models.Normalize")) {
      config.normalize = true;
    } else if (!type.ends_with("models.Transformer")) {
      fail_model("{}: sentence-transformers module '{}' is not supported", modules_path.string(), type);
    }
  }
  if (has_pooling)
    notes.push_back(fmt::format("sentence-transformers model: pooling {}, normalize {}", pooling_name(config.pooling),
                                config.normalize ? "yes" : "no"));
  const fs::path sbc = dir / "sentence_bert_config.json";
  if (fs::exists(sbc)) {
    json s;
    if (std::string err = try_parse_json(read_file(sbc.string()), s); !err.empty()) fail_model("{}: malformed JSON: {}", sbc.string(), err);
    if (s.is_object() && s.contains("max_seq_length") && s["max_seq_length"].is_number_integer()) {
      const int64_t v = s["max_seq_length"].is_number_unsigned() ? int64_t(std::min<uint64_t>(s["max_seq_length"].get<uint64_t>(), INT32_MAX))
                                                                 : s["max_seq_length"].get<int64_t>();
      if (v <= 0 || v > INT32_MAX) fail_model("{}: max_seq_length {} is not a positive length", sbc.string(), v);
      max_seq_length = int(v);
    }
  }
}

}  // namespace

Model load_hf_checkpoint(const std::string& dir_name) {
  const fs::path dir(dir_name);
  const fs::path config_path = dir / "config.json";
  Model m;
  m.source = dir_name;
  m.config = parse_hf_config(read_file(config_path.string()), config_path.string());
  int max_seq_length = 0;
  read_sentence_transformers(dir, m.config, max_seq_length, m.notes);
  text::Tokenizer tok = text::Tokenizer::from_path(dir_name);
  if (max_seq_length > 0) {  // sentence-transformers truncates to its own max_seq_length
    text::TokenizerConfig tc = tok.config();
    tc.model_max_length = max_seq_length;
    tok = text::Tokenizer(tok.vocab(), tc);
  }
  // Real checkpoints often pad their embedding rows past the vocabulary (to a multiple of 8 or 64):
  // the tokenizer never gives those ids, fill-mask may still predict them, export keeps them.
  if (tok.vocab().size() > size_t(m.config.vocab_size))
    fail_model("{}: the vocabulary has {} tokens but config.json says vocab_size {}", dir_name, tok.vocab().size(),
               m.config.vocab_size);
  m.tokenizer.emplace(std::move(tok));

  io::TensorArchive ar = read_weights(dir);
  // transformers' BertForMaskedLM drops the pooler; keep it when the checkpoint has one.
  if (!m.config.has_pooler && find_tensor(ar, name_prefix(m.config.task) + "pooler.dense.weight"))
    m.config.has_pooler = true;

  // Every tensor is checked before anything is allocated: config.json can claim any size, the
  // checkpoint's tensors are what is really there.
  for (const TensorInfo& t : tensor_table(m.config)) {
    const io::TensorData* d = find_tensor(ar, t.name);
    if (!d) fail_model("{}: missing tensor '{}' for {}", ar.source, t.name, m.config.hf_class());
    if (d->shape != t.shape)
      fail_model("{}: shape mismatch for {}: the checkpoint has {}, config.json implies {}", ar.source, t.name,
                 io::shape_string(d->shape), io::shape_string(t.shape));
    if (!io::dtype_is_float(d->dtype))
      fail_model("{}: tensor '{}' has dtype {}; weights must be F32, F16 or BF16", ar.source, t.name,
                 io::dtype_name(d->dtype));
  }
  m.storage = WeightStorage(m.config, m.weights);
  BertWeights dst = m.weights;
  std::vector<const io::TensorData*> used;
  for_each_tensor(m.config, dst, [&](const TensorInfo& t, float*& slot) {
    const io::TensorData* d = find_tensor(ar, t.name);
    if (d->dtype != io::DType::DTYPE_F32) m.stored_dtype = d->dtype;
    io::to_f32(*d, {slot, size_t(t.numel())});
    used.push_back(d);
  });
  // A NaN in the source would give NaN scores for every input: refuse it (~50 ms for BERT-base).
  if (const std::string bad = first_non_finite_tensor(m.config, m.weights); !bad.empty())
    fail_model("{}: tensor '{}' holds NaN or infinite values", ar.source, bad);
  // Tensors we do not use: the tied decoder copies, position_ids buffers, heads of other tasks.
  std::vector<std::string> ignored;
  for (const io::TensorData& d : ar.tensors()) {
    bool is_used = false;
    for (const io::TensorData* u : used) is_used = is_used || u == &d;
    const bool tied = d.name == "cls.predictions.decoder.weight" || d.name == "cls.predictions.decoder.bias";
    if (!is_used && !tied && !d.name.ends_with("position_ids")) ignored.push_back(d.name);
  }
  if (!ignored.empty())
    m.notes.push_back(fmt::format("ignored {} tensor(s) this architecture does not use: {}{}", ignored.size(),
                                  ignored.front(), ignored.size() > 1 ? ", ..." : ""));
  return m;
}

Model load_model(const std::string& path, const LoadOptions& options) {
  try {
    if (is_hf_checkpoint_dir(path)) return load_hf_checkpoint(path);
    if (!file_exists(path)) fail_io("cannot open {}: No such file or directory", path);
    return load_model_gguf(path, options);
  } catch (const std::bad_alloc&) {  // "out of memory" alone would not say what was being loaded
    fail(ErrorKind::ERROR_MODEL, "{}: out of memory while loading the model", path);
  }
}

Model make_model(const BertConfig& config, text::Tokenizer tokenizer) {
  Model m;
  m.config = config;
  m.config.validate("model configuration");
  m.source = "(new model)";
  if (tokenizer.vocab().size() > size_t(config.vocab_size))  // padded embedding rows are fine
    fail_model("the vocabulary has {} tokens but the model expects {}", tokenizer.vocab().size(), config.vocab_size);
  m.tokenizer.emplace(std::move(tokenizer));
  m.storage = WeightStorage(m.config, m.weights);
  return m;
}

// ---- export -------------------------------------------------------------------------------------

namespace {

void write_text(const fs::path& path, const std::string& text) {
  AtomicFile f(path.string());
  f.write(text);
  f.commit();
}

void write_hf_files(const Model& m, const fs::path& dir) {
  std::error_code ec;
  const text::Tokenizer& tok = *m.tokenizer;
  const text::TokenizerConfig& tc = tok.config();

  std::vector<io::TensorData> tensors;
  BertWeights w = m.weights;
  for_each_tensor(m.config, w, [&](const TensorInfo& t, float*& slot) {
    tensors.push_back(io::TensorData{t.name, io::DType::DTYPE_F32, t.shape, slot, size_t(t.numel()) * sizeof(float)});
  });
  io::write_safetensors((dir / "model.safetensors").string(), tensors);
  write_text(dir / "config.json", to_hf_config_json(m.config));

  std::string vocab;
  for (const std::string& token : tok.vocab().tokens()) vocab += token + "\n";
  write_text(dir / "vocab.txt", vocab);

  json special = {{"unk_token", tc.unk_token}, {"sep_token", tc.sep_token}, {"pad_token", tc.pad_token},
                  {"cls_token", tc.cls_token}, {"mask_token", tc.mask_token}};
  if (!tc.extra_special_tokens.empty()) special["additional_special_tokens"] = tc.extra_special_tokens;
  write_text(dir / "special_tokens_map.json", special.dump(2) + "\n");
  json tcj = special;
  tcj["tokenizer_class"] = "BertTokenizer";
  tcj["do_lower_case"] = tc.lowercase;
  tcj["do_basic_tokenize"] = true;
  tcj["tokenize_chinese_chars"] = tc.tokenize_chinese_chars;
  tcj["strip_accents"] = tc.strip_accents ? json(*tc.strip_accents) : json(nullptr);
  tcj["model_max_length"] = tc.model_max_length > 0 ? tc.model_max_length : m.config.max_position_embeddings;
  tcj["clean_up_tokenization_spaces"] = true;
  write_text(dir / "tokenizer_config.json", tcj.dump(2) + "\n");
  // Files of an older checkpoint in this directory that loaders would read instead of ours.
  for (const char* stale : {"tokenizer.json", "model.safetensors.index.json", "pytorch_model.bin",
                            "pytorch_model.bin.index.json", "modules.json"})
    fs::remove(dir / stale, ec);
}

}  // namespace

void save_model_hf(const Model& m, const std::string& dir_name) {
  if (!m.tokenizer) fail_model("{}: the model has no vocabulary to export", m.source);
  const fs::path dir(dir_name);
  std::error_code ec;
  const bool created = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) fail_io("cannot create {}: {}", dir_name, ec.message());
  try {
    write_hf_files(m, dir);
  } catch (...) {
    if (created) fs::remove_all(dir, ec);  // a full disk must not leave an empty or partial folder
    throw;
  }
}

}  // namespace bert::model
