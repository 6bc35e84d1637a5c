// Activations (GELU, ReLU, tanh) forward and backward on oneDNN eltwise primitives.
#include <cstring>
#include <string>
#include <unordered_map>

#include <fmt/format.h>  // cache keys

#include "ops/onednn/runtime.hpp"

namespace bert::ops {

using namespace dnn;

namespace {

struct EltwiseEntry {
  dnnl::eltwise_forward::primitive_desc fwd_pd;
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
};
PrimitiveCache<EltwiseEntry> eltwise_cache;

EltwiseEntry& eltwise_entry(size_t n, Activation act) {
  std::string key = fmt::format("elt:{}:{}", n, int(act));
  return eltwise_cache.get(key, [&] {
    memory::desc md = plain({memory::dim(n)});
    algorithm alg = eltwise_algorithm(act);
    dnnl::eltwise_forward::primitive_desc fpd(
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, md, 0.f, 0.f), engine());
    dnnl::eltwise_backward::primitive_desc bpd(dnnl::eltwise_backward::desc(alg, md, md, 0.f, 0.f),
                                               engine(), fpd);
    return EltwiseEntry{fpd, dnnl::eltwise_forward(fpd), dnnl::eltwise_backward(bpd)};
  });
}

}  // namespace

void activation_forward(float* y, const float* x, size_t n, Activation act) {
  if (act == Activation::ACT_NONE) {
    if (y != x) std::memcpy(y, x, n * sizeof(float));
    return;
  }
  EltwiseEntry& e = eltwise_entry(n, act);
  memory::desc md = plain({memory::dim(n)});
  run(e.fwd, {{DNNL_ARG_SRC, mem(md, x)}, {DNNL_ARG_DST, mem(md, y)}});
}

void activation_backward(float* dx, const float* dy, const float* x, size_t n, Activation act) {
  if (act == Activation::ACT_NONE) {
    add_into(dx, dy, n);
    return;
  }
  EltwiseEntry& e = eltwise_entry(n, act);
  memory::desc md = plain({memory::dim(n)});
  float* t = scratch(0, n);
  run(e.bwd, {{DNNL_ARG_SRC, mem(md, x)}, {DNNL_ARG_DIFF_DST, mem(md, dy)}, {DNNL_ARG_DIFF_SRC, mem(md, t)}});
  add_into(dx, t, n);
}

}  // namespace bert::ops
