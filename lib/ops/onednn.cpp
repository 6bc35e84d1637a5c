// The ops of ops.hpp on oneDNN: the only file that includes oneDNN. Each primitive is created
// once per shape and cached ("create once, execute many times"); transposed operands are strides,
// never copies; bias, activation and residual are post-ops of the matmul.
//
// Debian ships oneDNN 2.6 (operation descriptors, `append_eltwise(scale, ...)`, output scales).
// oneDNN 3.x replaced those; the #if below is where a port would start.
#include "ops/ops.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>  // cache keys
#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.hpp"     // BERT_CHECK
#include "core/page_buffer.hpp"  // PageBuffer
#include "ops/cpu.hpp"         // cpu(): the instruction-set cap
#include "ops/quantize.hpp"    // quantize_u8, row_sums_s8

#if DNNL_VERSION_MAJOR != 2
#error "lib/ops/onednn.cpp is written against the oneDNN 2.x API (Debian 12 ships 2.6)"
#endif

namespace bert::ops {

using dnnl::algorithm;
using dnnl::memory;
using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

namespace {

dnnl::cpu_isa dnnl_isa(IsaLevel level) {
  switch (level) {
    case IsaLevel::ISA_SSE41: return dnnl::cpu_isa::sse41;
    case IsaLevel::ISA_AVX2: return dnnl::cpu_isa::avx2;
    case IsaLevel::ISA_AVX512: return dnnl::cpu_isa::avx512_core;
    case IsaLevel::ISA_AVX512_VNNI: return dnnl::cpu_isa::avx512_core_vnni;
    case IsaLevel::ISA_AVX512_BF16: return dnnl::cpu_isa::avx512_core_bf16;
    case IsaLevel::ISA_AMX: return dnnl::cpu_isa::avx512_core_amx;
    case IsaLevel::ISA_ALL: break;
  }
  return dnnl::cpu_isa::all;
}

// BERTCTL_MAX_ISA caps oneDNN too; it must be set before oneDNN first asks which ISA it may use,
// so it is the first thing the runtime does (oneDNN reads ONEDNN_MAX_CPU_ISA itself otherwise).
bool cap_onednn() {
  const Cpu& c = cpu();
  if (c.cap && c.cap_source == "BERTCTL_MAX_ISA")
    BERT_CHECK(dnnl::set_max_cpu_isa(dnnl_isa(*c.cap)) == dnnl::status::success);
  return true;
}

struct Runtime {
  bool capped = cap_onednn();
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
};

Runtime& rt() {
  static Runtime r;
  return r;
}

// A cache of primitives (and whatever else an op needs per shape), keyed by a string that spells
// out every parameter the primitive depends on. A stream of ever new shapes must not grow memory
// without bound, so past kCapacity entries the least recently used one goes; a reference from
// get() stays valid until the next get() that inserts.
template <class Entry>
class PrimitiveCache {
 public:
  static constexpr size_t kCapacity = 512;

  template <class Make>
  Entry& get(const std::string& key, Make make) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      if (map_.size() >= kCapacity) evict_oldest();
      it = map_.emplace(key, Slot{std::make_unique<Entry>(make()), 0}).first;
    }
    it->second.last_use = ++clock_;
    return *it->second.entry;
  }

 private:
  struct Slot {
    std::unique_ptr<Entry> entry;
    uint64_t last_use;
  };
  void evict_oldest() {
    auto oldest = map_.begin();
    for (auto it = map_.begin(); it != map_.end(); ++it)
      if (it->second.last_use < oldest->second.last_use) oldest = it;
    map_.erase(oldest);
  }

  std::mutex mutex_;
  std::unordered_map<std::string, Slot> map_;
  uint64_t clock_ = 0;
};

// Primitives made inside a parallel region run on the calling thread alone (see on_own_threads);
// they live in a cache of that thread: never mixed up with primitives that split their work over
// all threads, no lock, and no other thread can evict them while they run.
template <class Entry>
PrimitiveCache<Entry>& cache_here(PrimitiveCache<Entry>& shared) {
  thread_local PrimitiveCache<Entry> own;
  return omp_in_parallel() ? own : shared;
}

// fn(i) for i < count spread over oneDNN's threads, each call on one thread with single-threaded
// primitives. For many small independent pieces (attention per sequence and head group) this beats
// splitting each primitive over all threads: no barrier inside a piece, its data stays in one core's
// cache. The first exception is rethrown once every thread is done.
template <class Fn>
void on_own_threads(int count, Fn fn) {
  const int threads = std::min(omp_get_max_threads(), count);
  if (threads <= 1 || omp_in_parallel()) {
    for (int i = 0; i < count; ++i) fn(i);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel num_threads(threads)
  {
    omp_set_num_threads(1);  // what oneDNN sees when it makes and runs this thread's primitives
#pragma omp for schedule(dynamic, 1)
    for (int i = 0; i < count; ++i) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

memory::desc plain(dims d) {  // row-major
  dims strides(d.size());
  memory::dim s = 1;
  for (size_t i = d.size(); i-- > 0;) {
    strides[i] = s;
    s *= d[i];
  }
  return memory::desc(d, dt::f32, strides);
}

memory mem(const memory::desc& md, const void* p) {
  return memory(md, rt().engine, const_cast<void*>(p));
}

// Each thread executes on a stream of its own: attention runs primitives on several threads at once.
dnnl::stream& this_stream() {
  thread_local dnnl::stream s(rt().engine);
  return s;
}

void run(const dnnl::primitive& prim, const std::unordered_map<int, memory>& args) {
  prim.execute(this_stream(), args);
  this_stream().wait();
}

algorithm eltwise_algorithm(Activation act) {
  switch (act) {
    case Activation::ACT_GELU_ERF: return algorithm::eltwise_gelu_erf;
    case Activation::ACT_GELU_TANH: return algorithm::eltwise_gelu_tanh;
    case Activation::ACT_RELU: return algorithm::eltwise_relu;
    case Activation::ACT_TANH: return algorithm::eltwise_tanh;
    case Activation::ACT_NONE: break;
  }
  BERT_CHECK(false);
  return algorithm::undef;
}

// Scratch buffers for intermediate results, one set per thread, grown as needed.
float* scratch(int slot, size_t n) {
  thread_local PageBuffer buffers[6];
  buffers[slot].reserve(n * sizeof(float));
  return buffers[slot].as<float>();
}

void add_into(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

// ---- matmul -----------------------------------------------------------------------------------

struct MatmulEntry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};
PrimitiveCache<MatmulEntry> matmul_cache;

MatmulEntry make_matmul(const memory::desc& a, const memory::desc& b, const memory::desc* bias,
                        const memory::desc& c, const dnnl::primitive_attr& attr) {
  auto desc = bias ? dnnl::matmul::desc(a, b, *bias, c) : dnnl::matmul::desc(a, b, c);
  dnnl::matmul::primitive_desc pd(desc, attr, rt().engine);
  return MatmulEntry{pd, dnnl::matmul(pd)};
}

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
  return PackedWeight{memory(md, rt().engine, pages->data()), pages};
}

std::string md_key(const memory::desc& md) {
  std::string k;
  for (auto d : md.dims()) k += fmt::format("{},", d);
  k += ":";
  for (int i = 0; i < md.data.ndims; ++i) k += fmt::format("{},", md.data.format_desc.blocking.strides[i]);
  k += fmt::format(":{}:{}", int(md.data.format_kind), int(md.data.data_type));
  for (int i = 0; i < md.data.format_desc.blocking.inner_nblks; ++i)
    k += fmt::format("/{}x{}", md.data.format_desc.blocking.inner_idxs[i],
                     md.data.format_desc.blocking.inner_blks[i]);
  return k;
}

struct LinearEntry {
  MatmulEntry mm;
  bool packed;
};
PrimitiveCache<LinearEntry> linear_cache;

LinearEntry& linear_entry(int M, int K, int N, bool has_bias, Activation act, bool residual, bool frozen) {
  std::string key = fmt::format("lin:{}:{}:{}:{}:{}:{}:{}", M, K, N, has_bias, int(act), residual, frozen);
  return linear_cache.get(key, [&] {
    memory::desc x = plain({M, K});
    // Wᵀ (K,N) is the stored W (N,K) read with swapped strides.
    memory::desc w = frozen ? memory::desc({K, N}, dt::f32, memory::format_tag::any)
                            : memory::desc({K, N}, dt::f32, dims{1, K});
    memory::desc b = plain({1, N});
    memory::desc y = plain({M, N});
    dnnl::post_ops po;
    if (residual) po.append_binary(algorithm::binary_add, y);
    if (act != Activation::ACT_NONE) po.append_eltwise(1.f, eltwise_algorithm(act), 0.f, 0.f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(po);
    LinearEntry e{make_matmul(x, w, has_bias ? &b : nullptr, y, attr), frozen};
    return e;
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
  PrimitiveCache<MatmulEntry> specialized;
  std::mutex mutex;
  std::unordered_map<const void*, int64_t> rows;
  std::unordered_map<std::string, int> shape_calls;
  bool hot(const std::string& key) {
    std::lock_guard lock(mutex);
    return ++shape_calls[key] > kSpecializeAfter;
  }
  bool ready(const void* weight, int M) {
    std::lock_guard lock(mutex);
    int64_t& r = rows[weight];
    if (r >= kPackAfterRows) return true;
    r += M;
    return false;
  }
};
PackedWeights::PackedWeights() : impl_(new Impl) {}
PackedWeights::~PackedWeights() { delete impl_; }

namespace {

// The weight (N,K) of `type` as the matmul reads it: in place (Wᵀ through strides) when its
// primitive takes that, else its packed copy.
memory weight_memory(PackedWeights& store, const LinearEntry& e, const void* weight, dt type, int K, int N) {
  memory::desc want = e.mm.pd.weights_desc();
  memory::desc stored({K, N}, type, dims{1, K});
  if (want == stored) return mem(stored, weight);
  std::string key = fmt::format("{}:{}", static_cast<const void*>(weight), md_key(want));
  return store.impl()
      .cache.get(key,
           [&] {
             PackedWeight p = packed_memory(want);
             memory src = mem(stored, weight);
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
dnnl::post_ops int8_post_ops(const memory::desc& scale, int M, int N, Activation act, bool residual) {
  dnnl::post_ops po;
  po.append_binary(algorithm::binary_mul, scale);
  if (residual) po.append_binary(algorithm::binary_add, plain({M, N}));
  if (act != Activation::ACT_NONE) po.append_eltwise(1.f, eltwise_algorithm(act), 0.f, 0.f);
  return po;
}

// The generic primitive: a[n] at run time, so one primitive per shape serves every layer (brgemm
// takes no runtime scales).
LinearEntry& int8_linear_entry(int M, int K, int N, Activation act, bool residual, dt out, bool packed) {
  std::string key = fmt::format("lin8:{}:{}:{}:{}:{}:{}:{}", M, K, N, int(act), residual, int(out), packed);
  return linear_cache.get(key, [&] {
    memory::desc x({M, K}, dt::u8, dims{K, 1});
    // Wᵀ (K,N): packed, or the stored s8 W (N,K) read in place with swapped strides.
    memory::desc w = packed ? memory::desc({K, N}, dt::s8, memory::format_tag::any)
                            : memory::desc({K, N}, dt::s8, dims{1, K});
    memory::desc y({M, N}, out, dims{N, 1}), b = plain({1, N});
    dnnl::primitive_attr attr;
    attr.set_post_ops(int8_post_ops(plain({1, N}), M, N, act, residual));
    return LinearEntry{make_matmul(x, w, &b, y, attr), packed};
  });
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
MatmulEntry* specialized_int8(PackedWeights& store, const LinearEntry& generic, const LinearWeights& w, int M,
                              Activation act, bool residual, dt out) {
  const int K = w.in_features, N = w.out_features;
  std::string key = fmt::format("{}:{}:{}:{}:{}:{}", static_cast<const void*>(w.weight_s8), M, int(act), residual,
                                int(out), generic.packed);
  if (!store.impl().hot(key)) return nullptr;
  return &store.impl().specialized.get(key, [&] {
    memory::desc x({M, K}, dt::u8, dims{K, 1});
    memory::desc y({M, N}, out, dims{N, 1}), b = plain({1, N});
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, std::vector<float>(w.weight_scale, w.weight_scale + N));
    attr.set_post_ops(int8_post_ops(plain({1, 1}), M, N, act, residual));
    return make_matmul(x, generic.mm.pd.weights_desc(), &b, y, attr);
  });
}

// oneDNN's u8·s8 kernels without VNNI (AVX2; AVX-512 before Cascade Lake) add each pair of products
// in 16 bits with saturation (vpmaddubsw): 2·255·127 overflows 32767 and the sums come out wrong.
// There the activations take 7 bits (0..127; 2·127·127 fits). Halving the file's s8 weights instead
// measured no better overall (classifier probabilities slightly closer to f32, embeddings further)
// and would need a second copy of every weight.
}  // namespace

int int8_activation_top() {
  static const int top = [] {
    rt();  // the cap comes first
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
  MatmulEntry* own = specialized_int8(*w.packed, e, w, M, act, residual != nullptr, out);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, mem(memory::desc({M, K}, dt::u8, dims{K, 1}), xq.as<uint8_t>())},
      {DNNL_ARG_WEIGHTS, weight_memory(*w.packed, e, w.weight_s8, dt::s8, K, N)},
      {DNNL_ARG_DST, mem(memory::desc({M, N}, out, dims{N, 1}), y)},
      {DNNL_ARG_BIAS, mem(plain({1, N}), b.data())},
      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1,
       own ? mem(plain({1, 1}), &q.scale) : mem(plain({1, N}), a.data())}};
  if (residual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, mem(plain({M, N}), residual));
  run(own ? own->prim : e.mm.prim, args);
}

}  // namespace

void set_num_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : 1); }

void linear_forward_bf16(uint16_t* y, const float* x, const LinearWeights& w, int M) {
  BERT_CHECK(w.weight_s8 != nullptr);
  linear_forward_int8(y, x, w, M, Activation::ACT_NONE, nullptr, dt::bf16);
}

bool has_native_bf16() { return cpu().use.avx512_bf16; }
int num_threads() { return omp_get_max_threads(); }

void linear_forward(float* y, const float* x, const LinearWeights& w, int M, Activation act,
                    const float* residual) {
  if (w.weight_s8) return linear_forward_int8(y, x, w, M, act, residual);
  const int K = w.in_features, N = w.out_features;
  const bool packed = w.packed && w.packed->impl().ready(w.weight, M);
  LinearEntry& e = linear_entry(M, K, N, w.bias != nullptr, act, residual != nullptr, packed);
  memory wm = packed ? weight_memory(*w.packed, e, w.weight, dt::f32, K, N) : mem(e.mm.pd.weights_desc(), w.weight);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(plain({M, K}), x)},
                                       {DNNL_ARG_WEIGHTS, wm},
                                       {DNNL_ARG_DST, mem(plain({M, N}), y)}};
  if (w.bias) args.emplace(DNNL_ARG_BIAS, mem(plain({1, N}), w.bias));
  if (residual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mem(plain({M, N}), residual));
  run(e.mm.prim, args);
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
  rt();  // the cap first
  const dnnl_version_t* v = dnnl_version();
  // A layer of BERT-base at 128 rows, its weights packed, as a stream of batches runs it.
  const int M = 128, K = 768, N = 768;
  const std::string f32 = linear_entry(M, K, N, true, Activation::ACT_NONE, false, true).mm.pd.impl_info_str();
  const std::string int8 = int8_linear_entry(M, K, N, Activation::ACT_NONE, false, dt::f32, true).mm.pd.impl_info_str();
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

// c (+)= scale · a·b for (possibly batched, strided) a, b, c; `accumulate` adds into c.
MatmulEntry& strided_matmul(const memory::desc& a, const memory::desc& b, const memory::desc& c,
                            float scale, bool accumulate) {
  std::string key = fmt::format("mm:{}|{}|{}|{}|{}", md_key(a), md_key(b), md_key(c), scale, accumulate);
  return cache_here(matmul_cache).get(key, [&] {
    dnnl::primitive_attr attr;
    if (scale != 1.f) attr.set_output_scales(0, {scale});
    if (accumulate) {
      dnnl::post_ops po;
      po.append_sum(1.f);
      attr.set_post_ops(po);
    }
    return make_matmul(a, b, nullptr, c, attr);
  });
}

void matmul_into(float* c, const memory::desc& cd, const float* a, const memory::desc& ad, const float* b,
                 const memory::desc& bd, float scale, bool accumulate) {
  MatmulEntry& e = strided_matmul(ad, bd, cd, scale, accumulate);
  run(e.prim, {{DNNL_ARG_SRC, mem(ad, a)}, {DNNL_ARG_WEIGHTS, mem(bd, b)}, {DNNL_ARG_DST, mem(cd, c)}});
}

}  // namespace

void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const LinearWeights& w, int M) {
  const int K = w.in_features, N = w.out_features;
  if (dx)  // dx (M,K) += dy (M,N) · W (N,K)
    matmul_into(dx, plain({M, K}), dy, plain({M, N}), w.weight, plain({N, K}), 1.f, true);
  if (dweight)  // dW (N,K) += dyᵀ (N,M) · x (M,K); dyᵀ is dy with swapped strides
    matmul_into(dweight, plain({N, K}), dy, memory::desc({N, M}, dt::f32, dims{1, N}), x, plain({M, K}),
                1.f, true);
  if (dbias)
    for (int m = 0; m < M; ++m) add_into(dbias, dy + size_t(m) * N, size_t(N));
}

// ---- layer norm -------------------------------------------------------------------------------

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
        dnnl::layer_normalization_forward::desc(prop, data, stat, eps, kScaleShift), rt().engine);
    LayerNormEntry e{fpd, dnnl::layer_normalization_forward(fpd), {}, {}};
    if (training) {
      e.bwd_pd = dnnl::layer_normalization_backward::primitive_desc(
          dnnl::layer_normalization_backward::desc(dnnl::prop_kind::backward, data, data, stat, eps,
                                                   kScaleShift),
          rt().engine, fpd);
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

// ---- activations ------------------------------------------------------------------------------

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
        dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, alg, md, 0.f, 0.f), rt().engine);
    dnnl::eltwise_backward::primitive_desc bpd(dnnl::eltwise_backward::desc(alg, md, md, 0.f, 0.f),
                                               rt().engine, fpd);
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

// ---- softmax ----------------------------------------------------------------------------------

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
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, md, 1), rt().engine);
    dnnl::softmax_backward::primitive_desc bpd(dnnl::softmax_backward::desc(md, md, 1), rt().engine, fpd);
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

// ---- attention --------------------------------------------------------------------------------

namespace {

// Views of the fused (B,T,3C) QKV buffer and of (B,T,C) per-head data as (B,H,T,D) tensors.
struct AttentionViews {
  memory::desc q, kt, v, ctx, scores, scores_t, mask;
};

// `stride_T` is the distance in rows between sequences (T, unless sequences sit in longer slots).
// `heads_total` is the number of heads in a row of qkv and ctx when s.H is a subset of them.
AttentionViews attention_views(const AttentionShape& s, int stride_T = 0, int heads_total = 0) {
  const memory::dim B = s.B, T = s.T, H = s.H, D = s.D, S = stride_T > 0 ? stride_T : s.T;
  const memory::dim C = (heads_total > 0 ? heads_total : s.H) * D;
  AttentionViews v;
  v.q = memory::desc({B, H, T, D}, dt::f32, dims{S * 3 * C, D, 3 * C, 1});   // also k and v
  v.kt = memory::desc({B, H, D, T}, dt::f32, dims{S * 3 * C, D, 1, 3 * C});  // kᵀ
  v.v = v.q;
  v.ctx = memory::desc({B, H, T, D}, dt::f32, dims{S * C, D, C, 1});
  v.scores = plain({B, H, T, T});
  v.scores_t = memory::desc({B, H, T, T}, dt::f32, dims{H * T * T, T * T, 1, T});
  v.mask = plain({B, 1, 1, T});
  return v;
}

}  // namespace

namespace {

// The forward pass of attention_forward over sequences `stride_T` rows apart.
void attention_forward_impl(float* ctx, float* probs, const float* qkv, const float* mask_add, const AttentionShape& s,
                            const float* dropout_mask, int stride_T, int heads_total = 0) {
  const int C = (heads_total > 0 ? heads_total : s.H) * s.D;
  const size_t nprobs = size_t(s.B) * s.H * s.T * s.T;
  const float scale = 1.f / std::sqrt(float(s.D));
  AttentionViews v = attention_views(s, stride_T, heads_total);
  // scores = scale · q·kᵀ (+ mask, broadcast over heads and query positions). The mask post-op
  // costs as much as the product itself, so unpadded attention goes without.
  const bool masked = mask_add != nullptr;
  std::string key = fmt::format("attn:{}:{}:{}:{}:{}:{}:{}", s.B, s.T, s.H, s.D, masked, stride_T, heads_total);
  MatmulEntry& qk = cache_here(matmul_cache).get(key, [&] {
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale});
    dnnl::post_ops po;
    if (masked) po.append_binary(algorithm::binary_add, v.mask);
    attr.set_post_ops(po);
    return make_matmul(v.q, v.kt, nullptr, v.scores, attr);
  });
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, mem(v.q, qkv)}, {DNNL_ARG_WEIGHTS, mem(v.kt, qkv + C)}, {DNNL_ARG_DST, mem(v.scores, probs)}};
  if (masked) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, mem(v.mask, mask_add));
  run(qk.prim, args);
  softmax_forward(probs, probs, s.B * s.H * s.T, s.T);
  const float* p = probs;
  if (dropout_mask) {
    float* dropped = scratch(2, nprobs);
    for (size_t i = 0; i < nprobs; ++i) dropped[i] = probs[i] * dropout_mask[i];
    p = dropped;
  }
  matmul_into(ctx, v.ctx, p, v.scores, qkv + 2 * C, v.v, 1.f, false);
}

}  // namespace

namespace {

// Inference attention goes in pieces — a run of sequences of one length × a group of heads. Long
// sequences go on their own threads (see on_own_threads), each piece from q·kᵀ through the softmax to
// the product with v, its scores under kPieceBytes so they stay in the core's cache, heads split so
// every thread has work: 1×512 f32 attention 21% faster than whole products split over the threads.
// Where a sequence's scores take less than `shared_below` bytes, whole runs of sequences (up to
// kSharedBytes of scores) go through primitives split over all threads instead: bf16 products of
// short sequences are faster that way (measured: 8×128 5% faster, 32×40 9%).
struct AttentionPiece {
  int row, stride;  // the first sequence's first row; rows from one sequence to the next
  int k;            // sequences
  int h, g;         // heads h .. h+g-1
  int n;            // their length
};
constexpr size_t kPieceBytes = 1 << 20;
constexpr size_t kSharedBytes = 16 << 20;
constexpr int kAttentionSlot = 4;  // the scratch buffer of a piece's scores
constexpr size_t kSharedBelow = 2 << 20;  // 12 heads: f32 up to 200 tokens, bf16 up to 170

struct AttentionPlan {
  std::vector<AttentionPiece> shared, own;  // run one after another / on their own threads
};

// Also zeroes the context rows of padding (finite and unused).
AttentionPlan plan_attention(float* ctx, const SequenceRows& seqs, const AttentionShape& s, size_t bytes_per_score,
                             size_t shared_below) {
  const int threads = omp_get_max_threads(), C = s.H * s.D;
  auto length = [&](int b) { return std::clamp(seqs.lengths[b], 0, s.T); };
  auto zero_rows = [&](int from, int to) {
    if (to > from) std::memset(ctx + size_t(from) * C, 0, size_t(to - from) * C * sizeof(float));
  };
  int covered = 0;  // rows before it are a sequence's or zeroed
  for (int b = 0; b < s.B; ++b) {
    BERT_CHECK(seqs.offsets[b] >= covered && seqs.offsets[b] + length(b) <= seqs.rows);
    zero_rows(covered, seqs.offsets[b]);
    covered = seqs.offsets[b] + length(b);
  }
  zero_rows(covered, seqs.rows);
  AttentionPlan plan;
  for (int b = 0; b < s.B;) {
    // A run: sequences of one length, evenly spaced, so one strided view covers them all.
    const int n = length(b), row = seqs.offsets[b];
    const int stride = b + 1 < s.B ? seqs.offsets[b + 1] - row : n;
    int run = 1;
    while (b + run < s.B && length(b + run) == n && seqs.offsets[b + run] - seqs.offsets[b + run - 1] == stride) ++run;
    auto piece = [&](int j, int k, int h, int g) {
      return AttentionPiece{row + (j - b) * stride, k > 1 ? stride : n, k, h, g, n};
    };
    const size_t head_bytes = size_t(n) * n * bytes_per_score;
    if (n > 0 && head_bytes * size_t(s.H) < shared_below) {
      const int k = std::max(1, int(kSharedBytes / (head_bytes * size_t(s.H))));
      for (int j = b; j < b + run; j += k) plan.shared.push_back(piece(j, std::min(k, b + run - j), 0, s.H));
    } else if (n > 0) {
      const int g = std::clamp(int(kPieceBytes / head_bytes), 1, (s.H + threads - 1) / threads);
      const int k = std::max(1, int(kPieceBytes / (head_bytes * size_t(g))));
      for (int j = b; j < b + run; j += k)
        for (int h = 0; h < s.H; h += g) plan.own.push_back(piece(j, std::min(k, b + run - j), h, std::min(g, s.H - h)));
    }
    b += run;
  }
  return plan;
}

template <class Fn>
void run_plan(const AttentionPlan& plan, Fn fn) {
  for (const AttentionPiece& p : plan.shared) fn(p);
  on_own_threads(int(plan.own.size()), [&](int i) { fn(plan.own[size_t(i)]); });
}

}  // namespace

namespace {

// softmax over rows of f32 scores into bf16 probabilities.
struct SoftmaxBf16Entry {
  dnnl::softmax_v2_forward prim;
};
PrimitiveCache<SoftmaxBf16Entry> softmax_bf16_cache;

void softmax_to_bf16(uint16_t* y, const float* x, int rows, int cols) {
  memory::desc src = plain({rows, cols}), dst({rows, cols}, dt::bf16, dims{cols, 1});
  SoftmaxBf16Entry& e = cache_here(softmax_bf16_cache).get(fmt::format("smbf:{}:{}", rows, cols), [&] {
    dnnl::softmax_v2_forward::primitive_desc pd(
        dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference, algorithm::softmax_accurate, src, dst, 1),
        rt().engine);
    return SoftmaxBf16Entry{dnnl::softmax_v2_forward(pd)};
  });
  run(e.prim, {{DNNL_ARG_SRC, mem(src, x)}, {DNNL_ARG_DST, mem(dst, y)}});
}

}  // namespace

namespace {

// One short sequence (a line typed or piped alone) takes another road: its q, k and v are copied
// head-major, so both products run on brgemm, which makes its kernels per shape in a fraction of a
// millisecond. The strided products' gemm makes all its kernels at first use instead — 50 ms for f32
// and 10 ms for bf16 here, a quarter of a one-line `classify`. Only single sequences up to
// kCopyBelow tokens go this way, so at most 2 · kCopyBelow shapes of primitives ever exist for it.
constexpr int kCopyBelow = 64;
constexpr int kCopySlot = 5;  // the scratch buffer of the head-major copies

bool copy_head_major(const AttentionPiece& p) { return p.k == 1 && p.n <= kCopyBelow; }

// T is float (f32 attention) or uint16_t (bf16): ctx (n rows of the piece's heads) = softmax(q·kᵀ/√D)·v.
template <class T>
void attention_head_major(float* ctx, const T* qkv, const AttentionShape& s, const AttentionPiece& p) {
  const dt type = std::is_same_v<T, float> ? dt::f32 : dt::bf16;
  const memory::dim g = p.g, n = p.n, D = s.D, C = memory::dim(s.H) * s.D;
  const size_t block = size_t(g) * n * D, count = size_t(g) * n * n;
  const size_t copy_floats = (3 * block * sizeof(T) + sizeof(float) - 1) / sizeof(float);
  T* q = reinterpret_cast<T*>(scratch(kCopySlot, copy_floats));
  T* k = q + block;
  T* v = k + block;
  const T* rows = qkv + size_t(p.row) * 3 * C + size_t(p.h) * D;
  for (memory::dim h = 0; h < g; ++h)
    for (memory::dim t = 0; t < n; ++t) {
      const T* from = rows + size_t(t) * 3 * C + size_t(h) * D;
      const size_t to = (size_t(h) * n + size_t(t)) * D;
      std::memcpy(q + to, from, D * sizeof(T));
      std::memcpy(k + to, from + C, D * sizeof(T));
      std::memcpy(v + to, from + 2 * C, D * sizeof(T));
    }
  float* scores = scratch(kAttentionSlot, count + (type == dt::bf16 ? (count + 1) / 2 : 0));
  memory::desc qd({1, g, n, D}, type, memory::format_tag::abcd), ktd({1, g, D, n}, type, memory::format_tag::abdc);
  memory::desc sd({1, g, n, n}, dt::f32, memory::format_tag::abcd), pd({1, g, n, n}, type, memory::format_tag::abcd);
  memory::desc cd({1, g, n, D}, dt::f32, dims{n * C, D, C, 1});
  const std::string shape = fmt::format("{}:{}:{}:{}", int(type), g, n, D);
  MatmulEntry& qk = cache_here(matmul_cache).get("hmqk:" + shape, [&] {
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {1.f / std::sqrt(float(D))});
    return make_matmul(qd, ktd, nullptr, sd, attr);
  });
  run(qk.prim, {{DNNL_ARG_SRC, mem(qd, q)}, {DNNL_ARG_WEIGHTS, mem(ktd, k)}, {DNNL_ARG_DST, mem(sd, scores)}});
  void* probs = scores;
  if constexpr (std::is_same_v<T, float>) {
    softmax_forward(scores, scores, int(g * n), int(n));
  } else {
    probs = scores + count;
    softmax_to_bf16(static_cast<uint16_t*>(probs), scores, int(g * n), int(n));
  }
  MatmulEntry& pv = cache_here(matmul_cache).get("hmpv:" + shape, [&] {
    return make_matmul(pd, qd, nullptr, cd, dnnl::primitive_attr());
  });
  run(pv.prim, {{DNNL_ARG_SRC, mem(pd, probs)}, {DNNL_ARG_WEIGHTS, mem(qd, v)},
                {DNNL_ARG_DST, mem(cd, ctx + size_t(p.row) * C + size_t(p.h) * D)}});
}

}  // namespace

void attention_forward(float* ctx, float* probs, const float* qkv, const float* mask_add, const AttentionShape& s,
                       const float* dropout_mask) {
  attention_forward_impl(ctx, probs, qkv, mask_add, s, dropout_mask, s.T);
}

void attention_forward_varlen(float* ctx, const float* qkv, const SequenceRows& seqs, const AttentionShape& s) {
  run_plan(plan_attention(ctx, seqs, s, sizeof(float), kSharedBelow), [&](const AttentionPiece& p) {
    if (copy_head_major(p)) return attention_head_major(ctx, qkv, s, p);
    const size_t row = size_t(p.row), head = size_t(p.h) * s.D, C = size_t(s.H) * s.D;
    float* scores = scratch(kAttentionSlot, size_t(p.k) * p.g * p.n * p.n);
    attention_forward_impl(ctx + row * C + head, scores, qkv + row * 3 * C + head, nullptr, {p.k, p.n, p.g, s.D},
                           nullptr, p.stride, s.H);
  });
}

void attention_forward_varlen_bf16(float* ctx, const uint16_t* qkv, const SequenceRows& seqs,
                                   const AttentionShape& s) {
  const memory::dim C = s.H * s.D, D = s.D;
  const float scale = 1.f / std::sqrt(float(s.D));
  // A score costs 4 bytes in f32 and 2 more as a bf16 probability.
  run_plan(plan_attention(ctx, seqs, s, sizeof(float) + sizeof(uint16_t), kSharedBelow), [&](const AttentionPiece& p) {
    if (copy_head_major(p)) return attention_head_major(ctx, qkv, s, p);
    const memory::dim k = p.k, g = p.g, n = p.n, S = p.stride;
    const size_t count = size_t(k) * g * n * n, offset = size_t(p.row), head = size_t(p.h) * D;
    float* scores = scratch(kAttentionSlot, count + (count + 1) / 2);
    uint16_t* probs = reinterpret_cast<uint16_t*>(scores + count);
    const uint16_t* q = qkv + offset * 3 * C + head;
    memory::desc qd({k, g, n, D}, dt::bf16, dims{S * 3 * C, D, 3 * C, 1});
    memory::desc ktd({k, g, D, n}, dt::bf16, dims{S * 3 * C, D, 1, 3 * C});
    memory::desc sd = plain({k, g, n, n}), pd({k, g, n, n}, dt::bf16, dims{g * n * n, n * n, n, 1});
    memory::desc cd({k, g, n, D}, dt::f32, dims{S * C, D, C, 1});
    MatmulEntry& qk = cache_here(matmul_cache).get(fmt::format("qkbf:{}|{}", md_key(qd), md_key(ktd)), [&] {
      dnnl::primitive_attr attr;
      attr.set_output_scales(0, {scale});
      return make_matmul(qd, ktd, nullptr, sd, attr);
    });
    run(qk.prim, {{DNNL_ARG_SRC, mem(qd, q)}, {DNNL_ARG_WEIGHTS, mem(ktd, q + C)}, {DNNL_ARG_DST, mem(sd, scores)}});
    softmax_to_bf16(probs, scores, int(k * g * n), int(n));
    MatmulEntry& pv = cache_here(matmul_cache).get(fmt::format("pvbf:{}|{}|{}", md_key(pd), md_key(qd), md_key(cd)),
                                                   [&] { return make_matmul(pd, qd, nullptr, cd, dnnl::primitive_attr()); });
    run(pv.prim, {{DNNL_ARG_SRC, mem(pd, probs)}, {DNNL_ARG_WEIGHTS, mem(qd, q + 2 * C)},
                  {DNNL_ARG_DST, mem(cd, ctx + offset * C + head)}});
  });
}

void attention_backward(float* dqkv, float* scratch_probs, const float* dctx, const float* probs,
                        const float* qkv, const AttentionShape& s, const float* dropout_mask) {
  const int C = s.H * s.D;
  const size_t nprobs = size_t(s.B) * s.H * s.T * s.T;
  const float scale = 1.f / std::sqrt(float(s.D));
  AttentionViews v = attention_views(s);
  const float* p = probs;
  if (dropout_mask) {
    float* dropped = scratch(2, nprobs);
    for (size_t i = 0; i < nprobs; ++i) dropped[i] = probs[i] * dropout_mask[i];
    p = dropped;
  }
  // dV += pᵀ · dctx
  matmul_into(dqkv + 2 * C, v.v, p, v.scores_t, dctx, v.ctx, 1.f, true);
  // dP = dctx · vᵀ (then through the dropout mask)
  float* dp = scratch_probs;
  matmul_into(dp, v.scores, dctx, v.ctx, qkv + 2 * C, v.kt, 1.f, false);
  if (dropout_mask)
    for (size_t i = 0; i < nprobs; ++i) dp[i] *= dropout_mask[i];
  // dS = softmax'(dP); the 1/sqrt(D) of the forward is folded into the next two matmuls.
  float* ds = scratch(3, nprobs);
  std::memset(ds, 0, nprobs * sizeof(float));
  softmax_backward(ds, dp, probs, s.B * s.H * s.T, s.T);
  // dQ += scale · dS · k ; dK += scale · dSᵀ · q
  matmul_into(dqkv, v.q, ds, v.scores, qkv + C, v.q, scale, true);
  matmul_into(dqkv + C, v.q, ds, v.scores_t, qkv, v.q, scale, true);
}

}  // namespace bert::ops
