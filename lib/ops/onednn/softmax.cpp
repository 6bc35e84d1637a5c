// Softmax over the last axis, forward and backward, on oneDNN.
#include <string>
#include <unordered_map>

#include <fmt/format.h>  // cache keys

#include "ops/onednn/runtime.hpp"

namespace bert::ops {

using namespace dnn;

namespace {

struct SoftmaxEntry {
  dnnl::softmax_forward fwd;
  dnnl::softmax_backward bwd;
};
PrimitiveCache<SoftmaxEntry> softmax_cache;

SoftmaxEntry& softmax_entry(int rows, int cols) {
  return cache_here(softmax_cache).get(fmt::format("sm:{}:{}", rows, cols), [&] {
    memory::desc md = plain({rows, cols});
    dnnl::softmax_forward::primitive_desc fpd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md, 1), engine());
    dnnl::softmax_backward::primitive_desc bpd(dnnl::softmax_backward::desc(md, md, 1), engine(), fpd);
    return SoftmaxEntry{dnnl::softmax_forward(fpd), dnnl::softmax_backward(bpd)};
  });
}

}  // namespace

void softmax_forward(float* y, const float* x, int rows, int cols) {
  memory::desc md = plain({rows, cols});
  run(softmax_entry(rows, cols).fwd, {{DNNL_ARG_SRC, mem(md, x)}, {DNNL_ARG_DST, mem(md, y)}});
}

void softmax_backward(float* dx, const float* dy, const float* y, int rows, int cols) {
  memory::desc md = plain({rows, cols});
  float* t = scratch(1, size_t(rows) * cols);
  run(softmax_entry(rows, cols).bwd,
      {{DNNL_ARG_DST, mem(md, y)}, {DNNL_ARG_DIFF_DST, mem(md, dy)}, {DNNL_ARG_DIFF_SRC, mem(md, t)}});
  add_into(dx, t, size_t(rows) * cols);
}

}  // namespace bert::ops
