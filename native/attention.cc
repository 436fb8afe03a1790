// Attention by (sequence, head) blocks; see attention.h. Each block is computed by one thread with
// the same single-threaded GEMMs, softmax and dropout kernels that the unfused path runs, so the
// results are bit-identical to it and independent of the thread count.
#include "attention.h"

#include <atomic>
#include <cstring>
#include <vector>

#include "gemm_bf16.h"
#include "parallel_ops.h"
#include "thread_pool.h"

namespace tt {

namespace {

// C (ldc) = beta C + op(A) op(B) for one matrix, on the calling thread.
void block_gemm(Isa isa, bool bf16, bool tA, bool tB, int64_t m, int64_t n, int64_t kk, const float *a, int64_t lda,
                const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  GemmArgs g = single_gemm(tA, tB, m, n, kk, 1.0f, a, lda, b, ldb, beta, c, ldc);
  g.serial = true;
  if (bf16) gemm_bf16(g, isa);
  else gemm(g, isa);
}

struct BlockScratch {
  std::vector<float> s0, s1, s2;
  void reserve(size_t n) {
    if (s0.size() < n) {
      s0.resize(n);
      s1.resize(n);
      s2.resize(n);
    }
  }
};

// Runs f(b, h, scratch) for every block, blocks handed out dynamically to the pool's threads; the
// scratch is the running thread's, sized for one block.
template <class F>
void for_blocks(const AttentionArgs &a, F &&f) {
  const int64_t nb = a.batch * a.heads;
  std::atomic<int64_t> next{0};
  auto work = [&]() {
    static thread_local BlockScratch sc;
    sc.reserve(static_cast<size_t>(a.seq * a.seq));
    for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < nb;) f(i / a.heads, i % a.heads, sc);
  };
  ThreadPool &tp = pool();
  if (tp.size() == 1 || nb == 1) work();
  else tp.run([&](int, int) { work(); });
}

// Dropout's keep threshold and scale for p (the counter is the flat index in [B, heads, T, T]).
struct DropoutMap {
  uint32_t threshold;
  double inv_keep;
  explicit DropoutMap(double p) : threshold(dropout_threshold(p)), inv_keep(1.0 / (1.0 - p)) {}
};

}  // namespace

void attention_forward(const OpsTable &k, Isa isa, const AttentionArgs &a, float *ctx, int64_t ldc) {
  const int64_t T = a.seq, d = a.dim, TT = T * T;
  const DropoutMap dm(a.p);
  for_blocks(a, [&](int64_t b, int64_t h, BlockScratch &sc) {
    const int64_t row0 = b * T * a.ld + h * d;  // (b, t = 0, head h) in the [B, T, nh * d] views
    float *probs = a.probs + (b * a.heads + h) * TT;
    float *scores = sc.s0.data();
    block_gemm(isa, a.bf16, false, true, T, T, d, a.q + row0, a.ld, a.k + row0, a.ld, 0.0f, scores, T);
    k.softmax_rows(scores, a.mask ? a.mask + b * T : nullptr, probs, T, T, a.scale);
    const float *used = probs;
    if (a.p > 0) {
      k.dropout_forward(probs, scores, TT, static_cast<uint64_t>((b * a.heads + h) * TT), dm.threshold, dm.inv_keep, a.seed);
      used = scores;
    }
    block_gemm(isa, a.bf16, false, false, T, d, T, used, T, a.v + row0, a.ld, 0.0f, ctx + b * T * ldc + h * d, ldc);
  });
}

void attention_backward(const OpsTable &k, Isa isa, const AttentionArgs &a, const float *dctx, int64_t ldc, float *dq,
                        float *dk, float *dv, int64_t ldd, float beta_q, float beta_k, float beta_v) {
  const int64_t T = a.seq, d = a.dim, TT = T * T;
  const DropoutMap dm(a.p);
  for_blocks(a, [&](int64_t b, int64_t h, BlockScratch &sc) {
    const int64_t row0 = b * T * a.ld + h * d, crow0 = b * T * ldc + h * d, drow0 = b * T * ldd + h * d;
    const uint64_t i0 = static_cast<uint64_t>((b * a.heads + h) * TT);
    const float *probs = a.probs + (b * a.heads + h) * TT;
    if (dv) {
      // dV = dropout(P)^T dctx, with the forward's mask recomputed.
      const float *used = probs;
      if (a.p > 0) {
        k.dropout_forward(probs, sc.s0.data(), TT, i0, dm.threshold, dm.inv_keep, a.seed);
        used = sc.s0.data();
      }
      block_gemm(isa, a.bf16, true, false, T, d, T, used, T, dctx + crow0, ldc, beta_v, dv + drow0, ldd);
    }
    if (!dq && !dk) return;
    // dP = dropout-backward(dctx V^T) (the forward map with the same mask), dS = softmax-backward(dP).
    float *dp = sc.s1.data(), *ds = sc.s2.data();
    block_gemm(isa, a.bf16, false, true, T, T, d, dctx + crow0, ldc, a.v + row0, a.ld, 0.0f, dp, T);
    if (a.p > 0) k.dropout_forward(dp, dp, TT, i0, dm.threshold, dm.inv_keep, a.seed);
    std::memset(ds, 0, sizeof(float) * static_cast<size_t>(TT));
    k.softmax_backward(probs, dp, ds, T, T, a.scale);
    if (dq) block_gemm(isa, a.bf16, false, false, T, d, T, ds, T, a.k + row0, a.ld, beta_q, dq + drow0, ldd);
    if (dk) block_gemm(isa, a.bf16, true, false, T, d, T, ds, T, a.q + row0, a.ld, beta_k, dk + drow0, ldd);
  });
}

}  // namespace tt
