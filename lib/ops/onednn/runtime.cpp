#include "ops/onednn/runtime.hpp"

#include <fmt/format.h>  // cache keys

#include "core/error.hpp"        // BERT_CHECK
#include "core/page_buffer.hpp"  // PageBuffer
#include "ops/cpu.hpp"           // cpu(): the instruction-set cap

namespace bert::ops::dnn {

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

}  // namespace

dnnl::engine& engine() {
  static Runtime r;
  return r.engine;
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
  return memory(md, engine(), const_cast<void*>(p));
}

dnnl::stream& this_stream() {
  thread_local dnnl::stream s(engine());
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

float* scratch(int slot, size_t n) {
  thread_local PageBuffer buffers[6];
  buffers[slot].reserve(n * sizeof(float));
  return buffers[slot].as<float>();
}

dnnl::primitive_attr accumulating() {
  dnnl::post_ops po;
  po.append_sum(1.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  return attr;
}

void add_into(float* dst, const float* src, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= (size_t(1) << 15) && !omp_in_parallel())
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void multiply(float* dst, const float* a, const float* b, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= (size_t(1) << 15) && !omp_in_parallel())
  for (size_t i = 0; i < n; ++i) dst[i] = a[i] * b[i];
}

MatmulEntry make_matmul(const memory::desc& a, const memory::desc& b, const memory::desc* bias,
                        const memory::desc& c, const dnnl::primitive_attr& attr) {
  auto desc = bias ? dnnl::matmul::desc(a, b, *bias, c) : dnnl::matmul::desc(a, b, c);
  dnnl::matmul::primitive_desc pd(desc, attr, engine());
  return MatmulEntry{pd, dnnl::matmul(pd)};
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

PrimitiveCache<MatmulEntry>& matmul_cache() {
  static PrimitiveCache<MatmulEntry> cache;
  return cache;
}

namespace {

MatmulEntry& strided_matmul(const memory::desc& a, const memory::desc& b, const memory::desc& c,
                            float scale, bool accumulate) {
  std::string key = fmt::format("mm:{}|{}|{}|{}|{}", md_key(a), md_key(b), md_key(c), scale, accumulate);
  return cache_here(matmul_cache()).get(key, [&] {
    dnnl::primitive_attr attr = accumulate ? accumulating() : dnnl::primitive_attr();
    if (scale != 1.f) attr.set_output_scales(0, {scale});
    return make_matmul(a, b, nullptr, c, attr);
  });
}

}  // namespace

void matmul_into(float* c, const memory::desc& cd, const float* a, const memory::desc& ad, const float* b,
                 const memory::desc& bd, float scale, bool accumulate) {
  MatmulEntry& e = strided_matmul(ad, bd, cd, scale, accumulate);
  run(e.prim, {{DNNL_ARG_SRC, mem(ad, a)}, {DNNL_ARG_WEIGHTS, mem(bd, b)}, {DNNL_ARG_DST, mem(cd, c)}});
}

}  // namespace bert::ops::dnn

namespace bert::ops {

void set_num_threads(int threads) { omp_set_num_threads(threads > 0 ? threads : 1); }
int num_threads() { return omp_get_max_threads(); }

}  // namespace bert::ops
