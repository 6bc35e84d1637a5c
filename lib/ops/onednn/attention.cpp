// Scaled dot-product attention on oneDNN: the training forward and backward over a fused QKV buffer
// (strided views, never copies), and inference over each sequence's real tokens in pieces on their
// own threads, in f32 or (int8 models on CPUs with AVX512-BF16) bfloat16.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>  // cache keys

#include "core/error.hpp"  // BERT_CHECK
#include "ops/onednn/runtime.hpp"

namespace bert::ops {

using namespace dnn;

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
  MatmulEntry& qk = cache_here(matmul_cache()).get(key, [&] {
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
    multiply(dropped, probs, dropout_mask, nprobs);
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
        engine());
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
  MatmulEntry& qk = cache_here(matmul_cache()).get("hmqk:" + shape, [&] {
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
  MatmulEntry& pv = cache_here(matmul_cache()).get("hmpv:" + shape, [&] {
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
    MatmulEntry& qk = cache_here(matmul_cache()).get(fmt::format("qkbf:{}|{}", md_key(qd), md_key(ktd)), [&] {
      dnnl::primitive_attr attr;
      attr.set_output_scales(0, {scale});
      return make_matmul(qd, ktd, nullptr, sd, attr);
    });
    run(qk.prim, {{DNNL_ARG_SRC, mem(qd, q)}, {DNNL_ARG_WEIGHTS, mem(ktd, q + C)}, {DNNL_ARG_DST, mem(sd, scores)}});
    softmax_to_bf16(probs, scores, int(k * g * n), int(n));
    MatmulEntry& pv = cache_here(matmul_cache()).get(fmt::format("pvbf:{}|{}|{}", md_key(pd), md_key(qd), md_key(cd)),
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
    multiply(dropped, probs, dropout_mask, nprobs);
    p = dropped;
  }
  // dV += pᵀ · dctx
  matmul_into(dqkv + 2 * C, v.v, p, v.scores_t, dctx, v.ctx, 1.f, true);
  // dP = dctx · vᵀ (then through the dropout mask)
  float* dp = scratch_probs;
  matmul_into(dp, v.scores, dctx, v.ctx, qkv + 2 * C, v.kt, 1.f, false);
  if (dropout_mask)
    multiply(dp, dp, dropout_mask, nprobs);
  // dS = softmax'(dP); the 1/sqrt(D) of the forward is folded into the next two matmuls.
  float* ds = scratch(3, nprobs);
  std::memset(ds, 0, nprobs * sizeof(float));
  softmax_backward(ds, dp, probs, s.B * s.H * s.T, s.T);
  // dQ += scale · dS · k ; dK += scale · dSᵀ · q
  matmul_into(dqkv, v.q, ds, v.scores, qkv + C, v.q, scale, true);
  matmul_into(dqkv + C, v.q, ds, v.scores_t, qkv, v.q, scale, true);
}

}  // namespace bert::ops
