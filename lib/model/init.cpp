#include "model/init.hpp"

#include <algorithm>
#include <cmath>

#include "model/model.hpp"  // Model, make_model

namespace bert::model {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

NormalRng::NormalRng(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t NormalRng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double NormalRng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

double NormalRng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u = 0;
  while (u <= 0) u = uniform();
  const double v = uniform(), r = std::sqrt(-2.0 * std::log(u)), a = 2.0 * M_PI * v;
  spare_ = r * std::sin(a);
  has_spare_ = true;
  return r * std::cos(a);
}

void init_weights(const BertConfig& c, BertWeights& w, uint64_t seed) {
  NormalRng rng(seed);
  const double std_dev = c.initializer_range;
  for_each_tensor(c, w, [&](const TensorInfo& t, float*& p) {
    const int64_t n = t.numel();
    switch (t.role) {
      case TensorRole::ROLE_WEIGHT:
      case TensorRole::ROLE_EMBEDDING:
        for (int64_t i = 0; i < n; ++i) p[i] = float(rng.normal() * std_dev);
        break;
      case TensorRole::ROLE_BIAS:
        for (int64_t i = 0; i < n; ++i) p[i] = 0.f;
        break;
      case TensorRole::ROLE_NORM:
        // LayerNorm weight 1, bias 0.
        for (int64_t i = 0; i < n; ++i) p[i] = t.name.ends_with(".weight") ? 1.f : 0.f;
        break;
    }
  });
  // nn.Embedding(padding_idx): the padding row starts at zero.
  for (int i = 0; i < c.hidden_size; ++i) w.word_embeddings[size_t(c.pad_token_id) * c.hidden_size + i] = 0.f;
}

}  // namespace bert::model

namespace bert::model {

namespace {

std::string without_prefix(const std::string& name) { return name.starts_with("bert.") ? name.substr(5) : name; }

}  // namespace

Model make_task_model(const Model& base, Task task, const std::vector<std::string>& labels, uint64_t seed) {
  BertConfig c = base.config;
  c.task = task;
  c.labels = c.has_labels() ? labels : std::vector<std::string>{};
  c.multi_label = false;
  c.has_pooler = c.spec().pooler;
  Model m = make_model(c, *base.tokenizer);
  m.source = base.source;
  // Start from a complete fresh initialisation, then overwrite what the base provides.
  init_weights(m.config, m.weights, seed);
  std::vector<std::pair<std::string, const float*>> have;
  BertWeights bw = base.weights;
  for_each_tensor(base.config, bw, [&](const TensorInfo& t, float*& p) { have.emplace_back(without_prefix(t.name), p); });
  for_each_tensor(m.config, m.weights, [&](const TensorInfo& t, float*& p) {
    if (t.name.starts_with(std::string(c.spec().linear_head ? c.spec().linear_head : "-") + "."))
      return;  // always a new head for this task and these labels
    for (const auto& [name, src] : have)
      if (name == without_prefix(t.name)) std::copy_n(src, t.numel(), p);
  });
  return m;
}

}  // namespace bert::model
