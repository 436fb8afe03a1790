// Thread-parallel drivers for the range kernels: each splits its work on the global pool with a
// partition that does not change the arithmetic (elementwise splits, row splits, or column splits
// for column reductions), so every result is identical for any thread count.
#pragma once
#include "common.h"

namespace tt {

void par_add_bias(const OpsTable &k, const float *x, const float *bias, float *out, int64_t rows, int64_t cols);
void par_sum_rows_acc(const OpsTable &k, const float *dy, float *db, int64_t rows, int64_t cols);
void par_add(const OpsTable &k, const float *a, const float *b, float *out, int64_t n);
void par_axpy(const OpsTable &k, int64_t n, float alpha, const float *x, float *y);
void par_mul(const OpsTable &k, const float *a, const float *b, float *out, int64_t n);
void par_scale(const OpsTable &k, const float *x, float alpha, float *out, int64_t n);
double par_sum_squares(const OpsTable &k, const float *x, int64_t n);
void par_gelu_forward(const OpsTable &k, const float *x, float *y, int64_t n, int approximate);
void par_gelu_backward(const OpsTable &k, const float *x, const float *dy, float *dx, int64_t n, int approximate);
void par_tanh_forward(const OpsTable &k, const float *x, float *y, int64_t n);
void par_tanh_backward(const OpsTable &k, const float *y, const float *dy, float *dx, int64_t n);
void par_layer_norm_forward(const OpsTable &k, const float *x, const float *gamma, const float *beta, float *y,
                            float *mean, float *rstd, int64_t rows, int64_t cols, float eps);
void par_layer_norm_backward(const OpsTable &k, const float *dy, const float *x, const float *gamma, const float *mean,
                             const float *rstd, float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t cols);
void par_softmax_forward(const OpsTable &k, const float *s, const float *mask, float *y, int64_t batch, int64_t heads,
                         int64_t tq, int64_t tk, float scale);
void par_softmax_backward(const OpsTable &k, const float *y, const float *dy, float *ds, int64_t rows, int64_t tk,
                          float scale);
// Fused forms (each step the same arithmetic as the separate kernels, so the same bits):
// y = dropout(y + bias) + residual in place, one pass; p == 0 skips the dropout.
void par_bias_dropout_add(const OpsTable &k, float *y, const float *bias, const float *residual, int64_t rows,
                          int64_t cols, double p, uint32_t seed);
// x += bias in place, y = gelu(x), one pass.
void par_bias_gelu(const OpsTable &k, float *x, const float *bias, float *y, int64_t rows, int64_t cols, int approximate);
// dx = dy * gelu'(x) (overwritten: no zero fill), then db += column sums of dx.
void par_gelu_backward_sum_rows(const OpsTable &k, const float *x, const float *dy, float *dx, float *db, int64_t rows,
                                int64_t cols, int approximate);
// keep = hash >= this: floor(p * 2^32), saturated (shared with the fused attention).
uint32_t dropout_threshold(double p);
void par_dropout_forward(const OpsTable &k, const float *x, float *y, int64_t n, double p, uint32_t seed);
void par_dropout_backward(const OpsTable &k, const float *dy, float *dx, int64_t n, double p, uint32_t seed);
void par_embedding_forward(const float *table, const int32_t *ids, float *out, int64_t n, int64_t dim);
void par_embedding_backward(const float *dout, const int32_t *ids, float *dtable, int64_t n, int64_t dim);
void par_permute0213(const float *x, float *out, int64_t d0, int64_t d1, int64_t d2, int64_t d3, bool accumulate);
// Returns {sum_r w[label_r] * -log p[r, label_r], sum_r w[label_r]} over non-ignored rows.
void par_cross_entropy_forward(const OpsTable &k, const float *logits, const int32_t *labels, const float *weights,
                               float *probs, int64_t rows, int64_t classes, int32_t ignore_index, double out[2]);
void par_cross_entropy_backward(const float *probs, const int32_t *labels, const float *weights, float *dlogits,
                                int64_t rows, int64_t classes, int32_t ignore_index, float grad_scale);
void par_adamw(const OpsTable &k, float *p, float *g, float *m, float *v, int64_t n, double lr, double beta1,
               double beta2, double eps, double weight_decay, double step, double grad_scale, bool zero_grad);

}  // namespace tt
