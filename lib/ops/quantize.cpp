#include "ops/quantize.hpp"

#include "ops/cpu.hpp"  // cpu().use

// GCC 12's AVX-512 headers initialise their "undefined" vectors from themselves, which -Wall reports
// at every intrinsic used inside a target("avx512f") function (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

namespace bert::ops {

// Activation quantization runs before every int8 matmul and touches every input element twice, so
// it must keep pace with the int8 products: AVX-512 and AVX2 paths (picked at run time from cpu(); the
// shipped build targets any x86-64) split over the OpenMP threads oneDNN uses, and a scalar path with
// the same arithmetic: q = clamp(round_half_even(x / scale + zero_point), 0, top).

namespace {

// Four accumulator pairs: one pair would make every vector wait for the min/max before it.
__attribute__((target("avx512f"))) void min_max_avx512(const float* x, size_t n, float& lo, float& hi) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;  // the range always holds 0
  __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
    const __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
    a0 = _mm512_min_ps(a0, v0), b0 = _mm512_max_ps(b0, v0);
    a1 = _mm512_min_ps(a1, v1), b1 = _mm512_max_ps(b1, v1);
    a2 = _mm512_min_ps(a2, v2), b2 = _mm512_max_ps(b2, v2);
    a3 = _mm512_min_ps(a3, v3), b3 = _mm512_max_ps(b3, v3);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    a0 = _mm512_min_ps(a0, v), b0 = _mm512_max_ps(b0, v);
  }
  lo = _mm512_reduce_min_ps(_mm512_min_ps(_mm512_min_ps(a0, a1), _mm512_min_ps(a2, a3)));
  hi = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(b0, b1), _mm512_max_ps(b2, b3)));
  for (; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
}

void min_max_scalar(const float* x, size_t n, float& lo, float& hi) {
  lo = hi = 0.f;
  for (size_t i = 0; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
}

__attribute__((target("avx512f"))) inline __m512i round_scaled(const float* p, __m512 s, __m512 z) {
  return _mm512_cvtps_epi32(_mm512_fmadd_ps(_mm512_loadu_ps(p), s, z));  // rounds half to even
}

// 64 values at a time: the saturating packs (i32 → i16 → u8) clamp to 0..255 on the way (then to
// `top`), and one permute restores the order the per-lane packs interleaved.
__attribute__((target("avx512f,avx512bw"))) void quantize_avx512(uint8_t* q, const float* x, size_t n, float inv,
                                                                 float zero_point, int top) {
  const __m512 s = _mm512_set1_ps(inv), z = _mm512_set1_ps(zero_point);
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i top8 = _mm512_set1_epi8(char(top));
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i ab = _mm512_packs_epi32(round_scaled(x + i, s, z), round_scaled(x + i + 16, s, z));
    const __m512i cd = _mm512_packs_epi32(round_scaled(x + i + 32, s, z), round_scaled(x + i + 48, s, z));
    const __m512i bytes = _mm512_min_epu8(_mm512_packus_epi16(ab, cd), top8);
    _mm512_storeu_si512(q + i, _mm512_permutexvar_epi32(order, bytes));
  }
  const __m512i low = _mm512_setzero_si512(), high = _mm512_set1_epi32(top);
  for (; i + 16 <= n; i += 16) {
    const __m512i r = _mm512_min_epi32(_mm512_max_epi32(round_scaled(x + i, s, z), low), high);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(r));
  }
  for (; i < n; ++i) q[i] = uint8_t(std::clamp(std::nearbyint(std::fma(x[i], inv, zero_point)), 0.f, float(top)));
}

// The same on 256-bit registers, for CPUs without AVX-512.
__attribute__((target("avx2,fma"))) void min_max_avx2(const float* x, size_t n, float& lo, float& hi) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
    const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
    a0 = _mm256_min_ps(a0, v0), b0 = _mm256_max_ps(b0, v0);
    a1 = _mm256_min_ps(a1, v1), b1 = _mm256_max_ps(b1, v1);
    a2 = _mm256_min_ps(a2, v2), b2 = _mm256_max_ps(b2, v2);
    a3 = _mm256_min_ps(a3, v3), b3 = _mm256_max_ps(b3, v3);
  }
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, _mm256_min_ps(_mm256_min_ps(a0, a1), _mm256_min_ps(a2, a3)));
  _mm256_store_ps(h, _mm256_max_ps(_mm256_max_ps(b0, b1), _mm256_max_ps(b2, b3)));
  lo = *std::min_element(l, l + 8), hi = *std::max_element(h, h + 8);
  for (; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
}

__attribute__((target("avx2,fma"))) inline __m256i round_scaled(const float* p, __m256 s, __m256 z) {
  return _mm256_cvtps_epi32(_mm256_fmadd_ps(_mm256_loadu_ps(p), s, z));
}

// 32 values at a time; the packs interleave 128-bit lanes, one permute of dwords undoes it.
__attribute__((target("avx2,fma"))) void quantize_avx2(uint8_t* q, const float* x, size_t n, float inv,
                                                       float zero_point, int top) {
  const __m256 s = _mm256_set1_ps(inv), z = _mm256_set1_ps(zero_point);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), high = _mm256_set1_epi8(char(top));
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i ab = _mm256_packs_epi32(round_scaled(x + i, s, z), round_scaled(x + i + 8, s, z));
    const __m256i cd = _mm256_packs_epi32(round_scaled(x + i + 16, s, z), round_scaled(x + i + 24, s, z));
    const __m256i bytes = _mm256_min_epu8(_mm256_packus_epi16(ab, cd), high);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permutevar8x32_epi32(bytes, order));
  }
  for (; i < n; ++i) q[i] = uint8_t(std::clamp(std::nearbyint(std::fma(x[i], inv, zero_point)), 0.f, float(top)));
}

void quantize_scalar(uint8_t* q, const float* x, size_t n, float inv, float zero_point, int top) {
  for (size_t i = 0; i < n; ++i) q[i] = uint8_t(std::clamp(std::nearbyint(std::fma(x[i], inv, zero_point)), 0.f, float(top)));
}

constexpr int kMaxThreads = 64;

// How many OpenMP threads share an array of n elements: one for small arrays.
int threads_for(size_t n) { return n >= (size_t(1) << 16) ? std::min(omp_get_max_threads(), kMaxThreads) : 1; }

QuantParams params_for(float lo, float hi, int top) {
  QuantParams p{(hi - lo) / float(top), 0};
  if (!(p.scale > 0.f) || !std::isfinite(p.scale)) p.scale = 1.f;  // all zeros (or a non-finite input)
  p.zero_point = int32_t(std::clamp(std::nearbyint(-lo / p.scale), 0.f, float(top)));
  return p;
}

}  // namespace

// One parallel region: each thread finds the range of its own chunk, the threads meet, and each
// quantizes the chunk it just read (still in its cache) with the common range.
QuantParams quantize_u8(uint8_t* q, const float* x, size_t n, int top) {
  float los[kMaxThreads], his[kMaxThreads];
  const CpuFeatures& use = cpu().use;
  auto min_max = use.avx512 ? min_max_avx512 : use.avx2 ? min_max_avx2 : min_max_scalar;
  auto quantize = use.avx512 ? quantize_avx512 : use.avx2 ? quantize_avx2 : quantize_scalar;
  const int threads = threads_for(n);
  QuantParams p{};
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), count = omp_get_num_threads();
    const size_t per = (n / size_t(count) + 15) / 16 * 16;
    const size_t begin = std::min(n, per * size_t(t)), end = t == count - 1 ? n : std::min(n, begin + per);
    min_max(x + begin, end - begin, los[t], his[t]);
#pragma omp barrier
#pragma omp single
    {
      float lo = 0.f, hi = 0.f;
      for (int i = 0; i < count; ++i) lo = std::min(lo, los[i]), hi = std::max(hi, his[i]);
      p = params_for(lo, hi, top);
    }  // the implicit barrier publishes p
    quantize(q + begin, x + begin, end - begin, 1.f / p.scale, float(p.zero_point), top);
  }
  return p;
}

const char* quantizer_path() {
  const CpuFeatures& use = cpu().use;
  return use.avx512 ? "avx512" : use.avx2 ? "avx2" : "scalar";
}

void quantize_s8_rows(int8_t* q, float* scale, const float* w, int N, int K) {
  for (int n = 0; n < N; ++n) {
    const float* row = w + size_t(n) * K;
    float m = 0.f;
    for (int k = 0; k < K; ++k) m = std::max(m, std::fabs(row[k]));
    scale[n] = m > 0.f ? m / 127.f : 1.f;
    const float inv = 1.f / scale[n];
    for (int k = 0; k < K; ++k) q[size_t(n) * K + k] = int8_t(std::clamp(std::nearbyint(row[k] * inv), -127.f, 127.f));
  }
}

void dequantize_s8_rows(float* w, const int8_t* q, const float* scale, int N, int K) {
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k) w[size_t(n) * K + k] = scale[n] * float(q[size_t(n) * K + k]);
}

void row_sums_s8(int32_t* sums, const int8_t* q, int N, int K) {
  for (int n = 0; n < N; ++n) {
    int32_t s = 0;
    for (int k = 0; k < K; ++k) s += q[size_t(n) * K + k];
    sums[n] = s;
  }
}

}  // namespace bert::ops

#pragma GCC diagnostic pop
