// Linear layers on oneDNN: f32 matmuls with bias, activation and residual as post-ops, weights read in
// place (Wᵀ through strides) or packed once into the primitive's layout; int8 layers as u8·s8 products
// of activations quantized per call; the backward pass as strided matmuls.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>  // cache keys

#include "core/error.hpp"        // BERT_CHECK
#include "core/page_buffer.hpp"  // PageBuffer
#include "ops/cpu.hpp"           // cpu()
#include "ops/onednn/runtime.hpp"
#include "ops/quantize.hpp"      // quantize_u8, row_sums_s8

namespace bert::ops {

using namespace dnn;

namespace {

// A weight repacked once into the layout the matmul prefers (keyed by address and layout), and the
// pages it lives in: mapped at once (one call) rather than page by page as the reorder first writes
// them; on virtual machines a page fault can cost 13 µs, and packing BERT-base's int8 weights page by
// page took 220 ms of a one-line `classify`.
struct PackedWeight {
  memory packed;
  std::shared_ptr<PageBuffer> pages;
};
PackedWeight packed_memory(const memory::desc& md) {
  auto pages = std::make_shared<PageBuffer>(md.get_size(), true);
  return PackedWeight{memory(md, engine(), pages->data()), pages};
}

// A linear layer's primitive and the descriptors of its arguments: x (M,K) rows in, y (M,N) rows
// out, w the weights as the primitive reads them, w_stored the stored (N,K) weights described in w's
// dims (what packing reorders from; equal to w where they are read in place), residual an f32 (M,N)
// post-op input, scale the int8 product's multiplier (see int8_primitive).
struct LinearEntry {
  dnnl::primitive prim;
  memory::desc x, w, w_stored, b, y, residual, scale;
  bool packed;
  std::string impl;  // oneDNN's implementation, for reports
};
PrimitiveCache<LinearEntry> linear_cache;

LinearEntry matmul_linear(const memory::desc& x, const memory::desc& w, const memory::desc& w_stored,
                          const memory::desc& b, bool has_bias, const memory::desc& y,
                          const dnnl::primitive_attr& attr, bool packed) {
  MatmulEntry mm = make_matmul(x, w, has_bias ? &b : nullptr, y, attr);
  return LinearEntry{mm.prim, x, mm.pd.weights_desc(), w_stored, b, y, y, {}, packed, mm.pd.impl_info_str()};
}

// Below AVX-512, oneDNN 2.6 runs f32 matmuls on its gemm:jit kernels: 65-134 GFLOP/s on BERT-base's
// shapes on a 2-core Zen 3, where its 1x1 convolution reaches 132-159 (jit_1x1:avx2). (M,K) rows are
// a 1-D image of width M with K channels in channels-last order (nwc): the same bytes, so packed
// layers run as that convolution there (its weights need its blocked layout, so never in place).
// Int8 alike: jit_uni_int8_1x1:avx2 reached 202-267 GOP/s where gemm:jit reached 186-244.
bool linear_as_convolution() {
  static const bool yes = [] {
    engine();  // the cap comes first
    const auto isa = unsigned(dnnl::get_effective_cpu_isa()), avx512 = unsigned(dnnl::cpu_isa::avx512_core);
    return (isa & avx512) != avx512;
  }();
  return yes;
}

// y (M,N) = x (M,K)·Wᵀ with W stored (N,K); `transposed`: with W stored (K,N), y = x·W (the backward
// pass's dx = dy·W, reading the forward's weights).
LinearEntry convolution_linear(int M, int K, int N, bool has_bias, const dnnl::primitive_attr& attr,
                               bool transposed = false) {
  memory::desc x({1, K, M}, dt::f32, memory::format_tag::nwc), y({1, N, M}, dt::f32, memory::format_tag::nwc);
  memory::desc w({N, K, 1}, dt::f32, memory::format_tag::any);
  memory::desc w_stored = transposed ? memory::desc({N, K, 1}, dt::f32, dims{1, N, 1})
                                     : memory::desc({N, K, 1}, dt::f32, memory::format_tag::oiw);
  memory::desc b({N}, dt::f32, memory::format_tag::x);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, algorithm::convolution_direct, x, w,
                                    has_bias ? b : memory::desc(), y, {1}, {0}, {0});
  dnnl::convolution_forward::primitive_desc pd(d, attr, engine());
  return LinearEntry{dnnl::convolution_forward(pd), x, pd.weights_desc(), w_stored, b, y, y, {}, true,
                     pd.impl_info_str()};
}

LinearEntry& linear_entry(int M, int K, int N, bool has_bias, Activation act, bool residual, bool frozen) {
  std::string key = fmt::format("lin:{}:{}:{}:{}:{}:{}:{}", M, K, N, has_bias, int(act), residual, frozen);
  return linear_cache.get(key, [&] {
    const bool conv = frozen && linear_as_convolution();
    memory::desc y = conv ? memory::desc({1, N, M}, dt::f32, memory::format_tag::nwc) : plain({M, N});
    dnnl::post_ops po;
    if (residual) po.append_binary(algorithm::binary_add, y);
    if (act != Activation::ACT_NONE) po.append_eltwise(1.f, eltwise_algorithm(act), 0.f, 0.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(po);
    if (conv) return convolution_linear(M, K, N, has_bias, attr);
    // Wᵀ (K,N) is the stored W (N,K) read with swapped strides.
    memory::desc stored({K, N}, dt::f32, dims{1, K});
    memory::desc w = frozen ? memory::desc({K, N}, dt::f32, memory::format_tag::any) : stored;
    return matmul_linear(plain({M, K}), w, stored, plain({1, N}), has_bias, y, attr, frozen);
  });
}

}  // namespace

// Repacking a weight costs what packed matmuls win back over about 3,500 rows (measured on BERT-base
// shapes: a 4.7 ms reorder against 10% of each matmul), so a weight is read in place (Wᵀ through
// strides) until it has served kPackAfterRows rows: a one-line `classify` never pays for packing,
// a stream of batches packs during its first few.
constexpr int64_t kPackAfterRows = 2048;


// An int8 layer called kSpecializeAfter times at one shape gets a primitive of its own, with its
// per-channel weight scales fixed in the primitive (brgemm applies fixed scales for free, runtime
// per-channel factors as a binary post-op); shapes that come and go share the generic primitive,
// so varying lengths do not pay primitive creation for every layer.
constexpr int kSpecializeAfter = 2;

struct PackedWeights::Impl {
  PrimitiveCache<PackedWeight> cache;
  PrimitiveCache<std::vector<int32_t>> row_sums;  // of int8 weights, for the zero point
  PrimitiveCache<LinearEntry> specialized;
  std::mutex mutex;
  std::unordered_map<const void*, int64_t> rows;
  std::unordered_map<std::string, int> shape_calls;
  bool hot(const std::string& key) {
    std::lock_guard lock(mutex);
    return ++shape_calls[key] > kSpecializeAfter;
  }
  bool pack_at_once = false;
  bool ready(const void* weight, int M) {
    std::lock_guard lock(mutex);
    int64_t& r = rows[weight];
    if (r >= kPackAfterRows || pack_at_once) return true;
    r += M;
    return false;
  }
};
PackedWeights::PackedWeights() : impl_(new Impl) {}
PackedWeights::~PackedWeights() { delete impl_; }
void PackedWeights::pack_from_first_call() {
  std::lock_guard lock(impl_->mutex);
  impl_->pack_at_once = true;
}

namespace {

// Weights that change at every training step are reordered into the convolution's layout at every
// call below AVX-512, where it runs the product 20-30% faster than gemm:jit: the reorder costs about
// 28/M of the product (0.06-0.3 ms against 9-35 ms for BERT-base's matrices at 1,024 rows), so only
// from kReorderEachCallFrom rows on. The copy lives in this thread's buffer until the next call.
constexpr int kReorderEachCallFrom = 512;

memory reordered(const LinearEntry& e, const float* weight) {
  struct ReorderEntry {
    dnnl::reorder prim;
  };
  static PrimitiveCache<ReorderEntry> reorders;
  thread_local PageBuffer copy;
  copy.reserve(e.w.get_size());
  ReorderEntry& r = reorders.get(md_key(e.w_stored) + "->" + md_key(e.w), [&] {
    return ReorderEntry{dnnl::reorder(dnnl::reorder::primitive_desc(engine(), e.w_stored, engine(), e.w))};
  });
  memory to(e.w, engine(), copy.data());
  run(r.prim, {{DNNL_ARG_FROM, mem(e.w_stored, weight)}, {DNNL_ARG_TO, to}});
  return to;
}

// The weight (N,K) as the layer's primitive reads it: in place when it takes that, else its packed copy.
memory weight_memory(PackedWeights& store, const LinearEntry& e, const void* weight) {
  if (e.w == e.w_stored) return mem(e.w_stored, weight);
  std::string key = fmt::format("{}:{}", static_cast<const void*>(weight), md_key(e.w));
  return store.impl()
      .cache.get(key,
           [&] {
             PackedWeight p = packed_memory(e.w);
             memory src = mem(e.w_stored, weight);
             dnnl::reorder(src, p.packed).execute(this_stream(), src, p.packed);
             this_stream().wait();
             return p;
           })
      .packed;
}

// u8 activations × s8 weights → f32 (or bf16): dst = (acc + b[n])·a[n] (+ residual, then act), where
// a[n] = x_scale·w_scale[n] and b[n] = bias[n]/a[n] − zero_point·Σ_k w[n][k] is the product's bias
// (oneDNN adds an int8 product's bias before scaling it). The post-ops after the bias: × `scale`
// (a[n] as a row, or x_scale alone where w_scale[n] are fixed output scales), residual, activation.
// `fixed_scales` null: the generic primitive, a[n] at run time, so one primitive per shape serves
// every layer (brgemm takes no runtime scales); else the layer's own, reading the generic one's
// packed weights (`w`). Packed layers below AVX-512 are a 1x1 convolution (see linear_as_convolution).
LinearEntry int8_primitive(int M, int K, int N, const memory::desc& w, const float* fixed_scales, Activation act,
                           bool residual, dt out, bool packed) {
  const bool conv = packed && linear_as_convolution();
  using tag = memory::format_tag;
  const memory::desc x = conv ? memory::desc({1, K, M}, dt::u8, tag::nwc) : memory::desc({M, K}, dt::u8, dims{K, 1});
  const memory::desc y = conv ? memory::desc({1, N, M}, out, tag::nwc) : memory::desc({M, N}, out, dims{N, 1});
  const memory::desc r = conv ? memory::desc({1, N, M}, dt::f32, tag::nwc) : plain({M, N});
  // The stored s8 W (N,K): as Wᵀ (K,N) with swapped strides for the matmul.
  const memory::desc stored = conv ? memory::desc({N, K, 1}, dt::s8, tag::oiw) : memory::desc({K, N}, dt::s8, dims{1, K});
  const memory::desc b = conv ? memory::desc({N}, dt::f32, tag::x) : plain({1, N});
  const memory::dim per = fixed_scales ? 1 : N;
  const memory::desc scale = conv ? memory::desc({1, per, 1}, dt::f32, tag::abc) : plain({1, per});
  const memory::desc want = w ? w : packed ? memory::desc(stored.dims(), dt::s8, tag::any) : stored;
  dnnl::primitive_attr attr;
  if (fixed_scales) attr.set_output_scales(1 << 1, std::vector<float>(fixed_scales, fixed_scales + N));
  dnnl::post_ops po;
  po.append_binary(algorithm::binary_mul, scale);
  if (residual) po.append_binary(algorithm::binary_add, r);
  if (act != Activation::ACT_NONE) po.append_eltwise(1.f, eltwise_algorithm(act), 0.f, 0.f);
  attr.set_post_ops(po);
  if (!conv) {
    MatmulEntry mm = make_matmul(x, want, &b, y, attr);
    return LinearEntry{mm.prim, x, mm.pd.weights_desc(), stored, b, y, r, scale, packed, mm.pd.impl_info_str()};
  }
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, algorithm::convolution_direct, x, want, b, y,
                                    {1}, {0}, {0});
  dnnl::convolution_forward::primitive_desc pd(d, attr, engine());
  return LinearEntry{dnnl::convolution_forward(pd), x, pd.weights_desc(), stored, b, y, r, scale, packed,
                     pd.impl_info_str()};
}

LinearEntry& int8_linear_entry(int M, int K, int N, Activation act, bool residual, dt out, bool packed) {
  std::string key = fmt::format("lin8:{}:{}:{}:{}:{}:{}:{}", M, K, N, int(act), residual, int(out), packed);
  return linear_cache.get(key, [&] { return int8_primitive(M, K, N, {}, nullptr, act, residual, out, packed); });
}

// Σ_k w[n][k] of an int8 weight, computed once.
const std::vector<int32_t>& int8_row_sums(PackedWeights& store, const int8_t* weight, int K, int N) {
  return store.impl().row_sums.get(fmt::format("{}", static_cast<const void*>(weight)), [&] {
    std::vector<int32_t> sums(static_cast<size_t>(N));
    row_sums_s8(sums.data(), weight, N, K);
    return sums;
  });
}

// The layer's own primitive for a hot shape: w_scale[n] fixed as output scales (free in brgemm), so
// its post-ops multiply by x_scale alone; it reads the same packed weights as the generic one.
LinearEntry* specialized_int8(PackedWeights& store, const LinearEntry& generic, const LinearWeights& w, int M,
                              Activation act, bool residual, dt out) {
  std::string key = fmt::format("{}:{}:{}:{}:{}:{}", static_cast<const void*>(w.weight_s8), M, int(act), residual,
                                int(out), generic.packed);
  if (!store.impl().hot(key)) return nullptr;
  return &store.impl().specialized.get(key, [&] {
    return int8_primitive(M, w.in_features, w.out_features, generic.w, w.weight_scale, act, residual, out,
                          generic.packed);
  });
}

}  // namespace

// oneDNN's u8·s8 kernels without VNNI (AVX2; AVX-512 before Cascade Lake) add each pair of products
// in 16 bits with saturation (vpmaddubsw): 2·255·127 overflows 32767 and the sums come out wrong.
// There the activations take 7 bits (0..127; 2·127·127 fits). Halving the file's s8 weights instead
// measured no better overall (classifier probabilities slightly closer to f32, embeddings further)
// and would need a second copy of every weight.
int int8_activation_top() {
  static const int top = [] {
    engine();  // the cap comes first
    const auto isa = unsigned(dnnl::get_effective_cpu_isa()), vnni = unsigned(dnnl::cpu_isa::avx512_core_vnni);
    return (isa & vnni) == vnni ? 255 : 127;
  }();
  return top;
}

namespace {

// y is f32 (M,N), or bf16 when out == bf16.
void linear_forward_int8(void* y, const float* x, const LinearWeights& w, int M, Activation act,
                         const float* residual, dt out = dt::f32) {
  BERT_CHECK(w.packed != nullptr && w.weight_scale != nullptr);
  const int K = w.in_features, N = w.out_features;
  // Grown, never shrunk: a vector resized up and down between layers (K = 768, 3072, 768, ...)
  // would zero-fill megabytes on one thread at every FFN while oneDNN's other threads wait.
  thread_local PageBuffer xq;
  xq.reserve(size_t(M) * K);
  thread_local std::vector<float> a, b;  // see int8_post_ops
  if (a.size() < size_t(N)) a.resize(size_t(N)), b.resize(size_t(N));
  const QuantParams q = quantize_u8(xq.as<uint8_t>(), x, size_t(M) * K, int8_activation_top());
  // Packed once it has served kPackAfterRows rows, as f32 weights (the first line of `classify`
  // would otherwise wait for 48 reorders).
  const bool packed = w.packed->impl().ready(w.weight_s8, M);
  LinearEntry& e = int8_linear_entry(M, K, N, act, residual != nullptr, out, packed);
  const std::vector<int32_t>& row_sums = int8_row_sums(*w.packed, w.weight_s8, K, N);
  for (int n = 0; n < N; ++n) {  // a[n] > 0: quantize_u8 and the converter never give a zero scale
    a[size_t(n)] = q.scale * w.weight_scale[n];
    b[size_t(n)] = (w.bias ? w.bias[n] / a[size_t(n)] : 0.f) - float(q.zero_point) * float(row_sums[size_t(n)]);
  }
  const LinearEntry* own = specialized_int8(*w.packed, e, w, M, act, residual != nullptr, out);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, mem(e.x, xq.as<uint8_t>())},
      {DNNL_ARG_WEIGHTS, weight_memory(*w.packed, e, w.weight_s8)},
      {DNNL_ARG_DST, mem(e.y, y)},
      {DNNL_ARG_BIAS, mem(e.b, b.data())},
      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, own ? mem(own->scale, &q.scale) : mem(e.scale, a.data())}};
  if (residual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, mem(e.residual, residual));
  run(own ? own->prim : e.prim, args);
}

}  // namespace

void linear_forward_bf16(uint16_t* y, const float* x, const LinearWeights& w, int M) {
  BERT_CHECK(w.weight_s8 != nullptr);
  linear_forward_int8(y, x, w, M, Activation::ACT_NONE, nullptr, dt::bf16);
}

bool has_native_bf16() { return cpu().use.avx512_bf16; }

void linear_forward(float* y, const float* x, const LinearWeights& w, int M, Activation act,
                    const float* residual) {
  if (w.weight_s8) return linear_forward_int8(y, x, w, M, act, residual);
  const int K = w.in_features, N = w.out_features;
  const bool packed = w.packed && w.packed->impl().ready(w.weight, M);
  const bool reorder_now = !w.packed && M >= kReorderEachCallFrom && linear_as_convolution();
  LinearEntry& e = linear_entry(M, K, N, w.bias != nullptr, act, residual != nullptr, packed || reorder_now);
  memory wm = packed ? weight_memory(*w.packed, e, w.weight) : reorder_now ? reordered(e, w.weight) : mem(e.w, w.weight);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, mem(e.x, x)}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, mem(e.y, y)}};
  if (w.bias) args.emplace(DNNL_ARG_BIAS, mem(e.b, w.bias));
  if (residual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mem(e.residual, residual));
  run(e.prim, args);
}

int calls_until_steady(int M) {
  // The first call after kPackAfterRows rows packs; an int8 layer's count of calls at a shape starts
  // again on packed weights, and the call that makes its own primitive is the last slow one.
  return int((kPackAfterRows + M - 1) / std::max(M, 1)) + 1 + kSpecializeAfter;
}

namespace {

const char* isa_name(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> engine_report() {
  engine();  // the cap first
  const dnnl_version_t* v = dnnl_version();
  // A layer of BERT-base at 128 rows, its weights packed, as a stream of batches runs it.
  const int M = 128, K = 768, N = 768;
  const std::string f32 = linear_entry(M, K, N, true, Activation::ACT_NONE, false, true).impl;
  const std::string int8 = int8_linear_entry(M, K, N, Activation::ACT_NONE, false, dt::f32, true).impl;
  const bool full = int8_activation_top() == 255;
  return {
      {"onednn", fmt::format("{}.{}.{}, {} kernels", v->major, v->minor, v->patch, isa_name(dnnl::get_effective_cpu_isa()))},
      {"f32_linear", f32},
      {"int8_linear", int8 + (full ? ", u8·s8 with 8-bit activations (VNNI)"
                                   : ", u8·s8 with 7-bit activations (without VNNI 8-bit pairs of products "
                                     "would saturate)")},
      {"int8_attention", has_native_bf16() ? "bfloat16 (AVX512-BF16)" : "f32 (no AVX512-BF16)"},
      {"quantizer", quantizer_path()},
  };
}

namespace {

// sums (N) += Σ_m rows (M,N): blocks of columns split over the threads, each column summed in row
// order as one thread would (the result does not depend on the thread count).
void add_column_sums(float* __restrict sums, const float* __restrict rows, int M, int N) {
  constexpr int kBlock = 64;
  const int blocks = (N + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (size_t(M) * N >= (size_t(1) << 15))
  for (int blk = 0; blk < blocks; ++blk) {
    const size_t begin = size_t(blk) * kBlock, end = std::min(size_t(N), begin + kBlock);
    float* __restrict out = sums + begin;
    const size_t width = end - begin, stride = size_t(N);
    for (int m = 0; m < M; ++m) {
      const float* __restrict row = rows + size_t(m) * stride + begin;
#pragma omp simd  // -O2's cost model leaves a loop of unknown trip count scalar
      for (size_t n = 0; n < width; ++n) out[n] += row[n];
    }
  }
}

// dx (M,K) += dy (M,N)·W (N,K) below AVX-512 from kReorderEachCallFrom rows: the convolution of
// linear_forward with W read as a stored (K,N) transpose and a sum post-op, its weights reordered at
// every call. 12-17% faster than gemm:jit's 120 GFLOP/s for BERT-base's shapes (microbenchmark,
// 1,024 rows: 135-141; oneDNN's 1x1 backward-data kernel: 98-127).
void backward_data_as_convolution(float* dx, const float* dy, const float* weight, int M, int K, int N) {
  LinearEntry& e = linear_cache.get(fmt::format("dx:{}:{}:{}", M, K, N),
                                    [&] { return convolution_linear(M, N, K, false, accumulating(), true); });
  run(e.prim, {{DNNL_ARG_SRC, mem(e.x, dy)}, {DNNL_ARG_WEIGHTS, reordered(e, weight)}, {DNNL_ARG_DST, mem(e.y, dx)}});
}

// dW (N,K) += dyᵀ·x below AVX-512 from kReorderEachCallFrom rows: the same convolution over dyᵀ
// (a transposed copy: N rows of M channels) with x (M,K) read as its (K,M) transposed weights. In
// training steps it beat the strided gemm:jit product, which ran at 58-64 GFLOP/s there on the
// 4-layer/256 model's shapes: 4-layer/256 32x128 step 1128-1178 -> 965-1036 ms, BERT-base 8x128
// 4999-5050 -> 4447-4965 ms (alternating runs). oneDNN's own 1x1 backward-weights kernel measured
// slower still (55-90 GFLOP/s).
void weight_gradient_as_convolution(float* dweight, const float* dy, const float* x, int M, int K, int N) {
  LinearEntry& e = linear_cache.get(fmt::format("dw:{}:{}:{}", M, K, N),
                                    [&] { return convolution_linear(N, M, K, false, accumulating(), true); });
  struct ReorderEntry {
    dnnl::reorder prim;
  };
  static PrimitiveCache<ReorderEntry> transposes;
  const memory::desc from({N, M}, dt::f32, dims{1, N}), to = plain({N, M});
  ReorderEntry& t = transposes.get(fmt::format("{}:{}", M, N), [&] {
    return ReorderEntry{dnnl::reorder(dnnl::reorder::primitive_desc(engine(), from, engine(), to))};
  });
  thread_local PageBuffer dyt;
  dyt.reserve(size_t(M) * N * sizeof(float));
  run(t.prim, {{DNNL_ARG_FROM, mem(from, dy)}, {DNNL_ARG_TO, mem(to, dyt.data())}});
  run(e.prim, {{DNNL_ARG_SRC, mem(e.x, dyt.data())}, {DNNL_ARG_WEIGHTS, reordered(e, x)}, {DNNL_ARG_DST, mem(e.y, dweight)}});
}

}  // namespace

void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const LinearWeights& w, int M) {
  const int K = w.in_features, N = w.out_features;
  if (dx && M >= kReorderEachCallFrom && linear_as_convolution())
    backward_data_as_convolution(dx, dy, w.weight, M, K, N);
  else if (dx)  // dx (M,K) += dy (M,N) · W (N,K)
    matmul_into(dx, plain({M, K}), dy, plain({M, N}), w.weight, plain({N, K}), 1.f, true);
  if (dweight && M >= kReorderEachCallFrom && linear_as_convolution())
    weight_gradient_as_convolution(dweight, dy, x, M, K, N);
  else if (dweight)  // dW (N,K) += dyᵀ (N,M) · x (M,K); dyᵀ is dy with swapped strides
    matmul_into(dweight, plain({N, K}), dy, memory::desc({N, M}, dt::f32, dims{1, N}), x, plain({M, K}),
                1.f, true);
  if (dbias) add_column_sums(dbias, dy, M, N);
}

}  // namespace bert::ops
