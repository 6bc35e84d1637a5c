// Softmax over the last axis, forward and backward, on oneDNN.
#include <memory>
#include <string>
#include <unordered_map>

#include <fmt/format.h>  // cache keys

#include "ops/onednn/runtime.hpp"

namespace bert::ops {

using namespace dnn;

namespace {

// Where oneDNN's softmax backward is its reference kernel (below AVX-512 in 2.6: 10 ms for BERT-base's
// 12,288 rows of 128 scores, 3% of a training step), the same gradient comes from jitted primitives:
// t = dy ⊙ y; r = Σ_cols t; dx += (dy − r) ⊙ y (a binary with a multiply and a sum post-op).
struct ComposedSoftmaxBackward {
  dnnl::binary product;
  dnnl::reduction row_sum;
  dnnl::binary gradient;
};

struct SoftmaxEntry {
  dnnl::softmax_forward fwd;
  dnnl::softmax_backward bwd;
  std::unique_ptr<ComposedSoftmaxBackward> composed;  // null: bwd is not a reference kernel
};
PrimitiveCache<SoftmaxEntry> softmax_cache;

bool is_reference(const char* impl) { return std::string(impl).rfind("ref", 0) == 0; }

std::unique_ptr<ComposedSoftmaxBackward> composed_backward(int rows, int cols) {
  const memory::desc md = plain({rows, cols}), sums = plain({rows, 1});
  dnnl::binary::primitive_desc product(dnnl::binary::desc(algorithm::binary_mul, md, md, md), engine());
  dnnl::reduction::primitive_desc row_sum(dnnl::reduction::desc(algorithm::reduction_sum, md, sums, 0.f, 0.f),
                                          engine());
  dnnl::post_ops po;
  po.append_binary(algorithm::binary_mul, md);
  po.append_sum(1.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  dnnl::binary::primitive_desc gradient(dnnl::binary::desc(algorithm::binary_sub, md, sums, md), attr, engine());
  for (const char* impl : {product.impl_info_str(), row_sum.impl_info_str(), gradient.impl_info_str()})
    if (is_reference(impl)) return nullptr;  // no better than the reference backward
  return std::make_unique<ComposedSoftmaxBackward>(
      ComposedSoftmaxBackward{dnnl::binary(product), dnnl::reduction(row_sum), dnnl::binary(gradient)});
}

SoftmaxEntry& softmax_entry(int rows, int cols) {
  return cache_here(softmax_cache).get(fmt::format("sm:{}:{}", rows, cols), [&] {
    memory::desc md = plain({rows, cols});
    dnnl::softmax_forward::primitive_desc fpd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md, 1), engine());
    dnnl::softmax_backward::primitive_desc bpd(dnnl::softmax_backward::desc(md, md, 1), engine(), fpd);
    return SoftmaxEntry{dnnl::softmax_forward(fpd), dnnl::softmax_backward(bpd),
                        is_reference(bpd.impl_info_str()) ? composed_backward(rows, cols) : nullptr};
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
  SoftmaxEntry& e = softmax_entry(rows, cols);
  if (const ComposedSoftmaxBackward* c = e.composed.get()) {
    const memory::desc sums = plain({rows, 1});
    float* r = scratch(0, size_t(rows));
    run(c->product, {{DNNL_ARG_SRC_0, mem(md, dy)}, {DNNL_ARG_SRC_1, mem(md, y)}, {DNNL_ARG_DST, mem(md, t)}});
    run(c->row_sum, {{DNNL_ARG_SRC, mem(md, t)}, {DNNL_ARG_DST, mem(sums, r)}});
    run(c->gradient, {{DNNL_ARG_SRC_0, mem(md, dy)},
                      {DNNL_ARG_SRC_1, mem(sums, r)},
                      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mem(md, y)},
                      {DNNL_ARG_DST, mem(md, dx)}});
    return;
  }
  run(e.bwd, {{DNNL_ARG_DST, mem(md, y)}, {DNNL_ARG_DIFF_DST, mem(md, dy)}, {DNNL_ARG_DIFF_SRC, mem(md, t)}});
  add_into(dx, t, size_t(rows) * cols);
}

}  // namespace bert::ops
