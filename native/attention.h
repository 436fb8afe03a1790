// Scaled dot-product attention over all heads, one (sequence, head) block at a time: the block's
// scores, dropped-out probabilities and probability gradients live in per-thread scratch (L2-sized
// for BERT's 128 tokens) instead of [batch, heads, T, T] buffers streamed through memory by separate
// kernels. Only the probabilities are written out (backward needs them).
#pragma once
#include "common.h"

namespace tt {

struct AttentionArgs {
  int64_t batch, seq, heads, dim;  // B, T, nh, d
  const float *q, *k, *v;          // [B, T, nh * d] views with row stride ld
  int64_t ld;
  const float *mask;               // [B, T] additive, or null
  float *probs;                    // [B, nh, T, T]
  float scale;                     // multiplies Q K^T before the mask
  double p;                        // dropout on the probabilities
  uint32_t seed;                   // mask = dropout hash of the flat index in [B, nh, T, T]
  bool bf16;                       // matmuls through gemm_bf16
};

// ctx (row stride ldc) = dropout(softmax(scale Q K^T + mask)) V per block; writes probs.
void attention_forward(const OpsTable &k, Isa isa, const AttentionArgs &a, float *ctx, int64_t ldc);

// From dctx (row stride ldc) and the saved probs: dq, dk, dv (each null to skip; row stride ldd)
// = beta * d + the block's gradient (beta 0 overwrites: the blocks cover every element).
void attention_backward(const OpsTable &k, Isa isa, const AttentionArgs &a, const float *dctx, int64_t ldc, float *dq,
                        float *dk, float *dv, int64_t ldd, float beta_q, float beta_k, float beta_v);

}  // namespace tt
