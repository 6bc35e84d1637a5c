// Layer normalization forward and backward on oneDNN (scale and shift; mean and variance saved
// for the backward pass when training).
#include <string>
#include <unordered_map>

#include <fmt/format.h>  // cache keys

#include "ops/onednn/runtime.hpp"

namespace bert::ops {

using namespace dnn;

namespace {

struct LayerNormEntry {
  dnnl::layer_normalization_forward::primitive_desc fwd_pd;
  dnnl::layer_normalization_forward fwd;
  dnnl::layer_normalization_backward::primitive_desc bwd_pd;
  dnnl::layer_normalization_backward bwd;
};
PrimitiveCache<LayerNormEntry> layernorm_cache;

const auto kScaleShift = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

LayerNormEntry& layernorm_entry(int M, int C, float eps, bool training) {
  std::string key = fmt::format("ln:{}:{}:{}:{}", M, C, eps, training);
  return layernorm_cache.get(key, [&] {
    memory::desc data = plain({M, C}), stat = plain({M});
    auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::layer_normalization_forward::primitive_desc fpd(
        dnnl::layer_normalization_forward::desc(prop, data, stat, eps, kScaleShift), engine());
    LayerNormEntry e{fpd, dnnl::layer_normalization_forward(fpd), {}, {}};
    if (training) {
      e.bwd_pd = dnnl::layer_normalization_backward::primitive_desc(
          dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, data, data, stat, eps,
                                                   kScaleShift),
          engine(), fpd);
      e.bwd = dnnl::layer_normalization_backward(e.bwd_pd);
    }
    return e;
  });
}

}  // namespace

void layernorm_forward(float* y, float* mean, float* var, const float* x, const float* gamma,
                       const float* beta, int M, int C, float eps) {
  const bool training = mean != nullptr;
  LayerNormEntry& e = layernorm_entry(M, C, eps, training);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(plain({M, C}), x)},
                                       {DNNL_ARG_DST, mem(plain({M, C}), y)},
                                       {DNNL_ARG_SCALE, mem(plain({C}), gamma)},
                                       {DNNL_ARG_SHIFT, mem(plain({C}), beta)}};
  if (training) {
    args.emplace(DNNL_ARG_MEAN, mem(plain({M}), mean));
    args.emplace(DNNL_ARG_VARIANCE, mem(plain({M}), var));
  }
  run(e.fwd, args);
}

void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                        const float* mean, const float* var, const float* gamma, int M, int C, float eps) {
  LayerNormEntry& e = layernorm_entry(M, C, eps, true);
  // oneDNN overwrites its outputs; ours accumulate.
  float* tdx = scratch(0, size_t(M) * C);
  float* tdg = scratch(1, size_t(C));
  float* tdb = scratch(2, size_t(C));
  run(e.bwd, {{DNNL_ARG_SRC, mem(plain({M, C}), x)},
              {DNNL_ARG_MEAN, mem(plain({M}), mean)},
              {DNNL_ARG_VARIANCE, mem(plain({M}), var)},
              {DNNL_ARG_DIFF_DST, mem(plain({M, C}), dy)},
              {DNNL_ARG_SCALE, mem(plain({C}), gamma)},
              // oneDNN 2.6 insists on a shift argument here though the gradient never reads it.
              {DNNL_ARG_SHIFT, mem(plain({C}), gamma)},
              {DNNL_ARG_DIFF_SRC, mem(plain({M, C}), tdx)},
              {DNNL_ARG_DIFF_SCALE, mem(plain({C}), tdg)},
              {DNNL_ARG_DIFF_SHIFT, mem(plain({C}), tdb)}});
  if (dx) add_into(dx, tdx, size_t(M) * C);
  if (dgamma) add_into(dgamma, tdg, size_t(C));
  if (dbeta) add_into(dbeta, tdb, size_t(C));
}

}  // namespace bert::ops
