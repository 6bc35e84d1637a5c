// Int8 quantization for inference on VNNI: weights symmetric per output channel (s8, fixed at
// convert time), activations asymmetric per tensor (u8 with a zero point, computed for every call
// as ONNX Runtime's dynamic quantization does: the range always includes 0, so 0 is exact).
//
//   QuantParams p = quantize_u8(q, x, n);               // x ≈ (q - p.zero_point) · p.scale
//   quantize_s8_rows(qw, scale, w, N, K);               // w[n][k] ≈ scale[n] · qw[n][k]
#pragma once
#include <cstddef>
#include <cstdint>

namespace bert::ops {

struct QuantParams {
  float scale;
  int32_t zero_point;
};

// x ≈ (q − zero_point)·scale with q in 0..top (255, or 127 where 8-bit products would saturate).
QuantParams quantize_u8(uint8_t* q, const float* x, size_t n, int top = 255);

// The instruction set quantize_u8 runs on here: "avx512", "avx2" or "scalar".
const char* quantizer_path();

void quantize_s8_rows(int8_t* q, float* scale, const float* w, int N, int K);
void dequantize_s8_rows(float* w, const int8_t* q, const float* scale, int N, int K);

// Σ_k q[n][k] for each row: with a u8 zero point z, Σ_k (x_k − z)·w_nk = Σ_k x_k·w_nk − z·sum[n].
void row_sums_s8(int32_t* sums, const int8_t* q, int N, int K);

}  // namespace bert::ops
