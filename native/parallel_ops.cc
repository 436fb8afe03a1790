#include "parallel_ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace tt {

namespace {

// Below these sizes the pool's wake-up costs more than the work.
constexpr int64_t kMinParallelElems = 1 << 15;
constexpr int64_t kAlign = 16;  // split elementwise ranges on 64-byte boundaries

// Runs f(begin, end) over [0, n) on the pool when n * cost_per_item is large enough: about four
// parts per thread, claimed dynamically, so a thread the OS deschedules does not hold up the rest
// (every op here computes each output from the same inputs wherever the parts fall).
template <class F>
void parallel_range(int64_t n, int64_t weight, int64_t align, F &&f) {
  ThreadPool &tp = pool();
  if (tp.size() == 1 || n * weight < kMinParallelElems || n <= align) {
    f(int64_t(0), n);
    return;
  }
  const int parts = static_cast<int>(std::min<int64_t>(4 * tp.size(), (n + align - 1) / align));
  std::atomic<int> next{0};
  tp.run([&](int, int) {
    for (int u; (u = next.fetch_add(1, std::memory_order_relaxed)) < parts;) {
      int64_t b, e;
      split_range(n, u, parts, align, &b, &e);
      if (b < e) f(b, e);
    }
  });
}

}  // namespace

void par_add_bias(const OpsTable &k, const float *x, const float *bias, float *out, int64_t rows, int64_t cols) {
  parallel_range(rows, cols, 1, [&](int64_t b, int64_t e) { k.add_bias(x + b * cols, bias, out + b * cols, e - b, cols); });
}

void par_sum_rows_acc(const OpsTable &k, const float *dy, float *db, int64_t rows, int64_t cols) {
  // Column slices: every column is summed over all rows in row order by one thread.
  parallel_range(cols, rows, kAlign, [&](int64_t b, int64_t e) { k.sum_rows_acc(dy + b, db + b, rows, e - b, cols); });
}

void par_add(const OpsTable &k, const float *a, const float *b, float *out, int64_t n) {
  parallel_range(n, 1, kAlign, [&](int64_t s, int64_t e) { k.add(a + s, b + s, out + s, e - s); });
}

void par_axpy(const OpsTable &k, int64_t n, float alpha, const float *x, float *y) {
  parallel_range(n, 1, kAlign, [&](int64_t s, int64_t e) { k.axpy(e - s, alpha, x + s, y + s); });
}

void par_mul(const OpsTable &k, const float *a, const float *b, float *out, int64_t n) {
  parallel_range(n, 1, kAlign, [&](int64_t s, int64_t e) { k.mul(a + s, b + s, out + s, e - s); });
}

void par_scale(const OpsTable &k, const float *x, float alpha, float *out, int64_t n) {
  parallel_range(n, 1, kAlign, [&](int64_t s, int64_t e) { k.scale(x + s, alpha, out + s, e - s); });
}

double par_sum_squares(const OpsTable &k, const float *x, int64_t n) {
  // Fixed chunks (independent of the thread count), partial sums added in chunk order.
  constexpr int64_t kChunk = 1 << 16;
  int64_t chunks = (n + kChunk - 1) / kChunk;
  if (chunks <= 1) return n > 0 ? k.sum_squares(x, n) : 0.0;
  std::vector<double> part(chunks);
  parallel_range(chunks, kChunk, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; c++) part[c] = k.sum_squares(x + c * kChunk, std::min(kChunk, n - c * kChunk));
  });
  double s = 0;
  for (double v : part) s += v;
  return s;
}

void par_gelu_forward(const OpsTable &k, const float *x, float *y, int64_t n, int approximate) {
  parallel_range(n, 4, kAlign, [&](int64_t s, int64_t e) { k.gelu_forward(x + s, y + s, e - s, approximate); });
}

void par_gelu_backward(const OpsTable &k, const float *x, const float *dy, float *dx, int64_t n, int approximate) {
  parallel_range(n, 4, kAlign,
                 [&](int64_t s, int64_t e) { k.gelu_backward(x + s, dy + s, dx + s, e - s, approximate); });
}

void par_tanh_forward(const OpsTable &k, const float *x, float *y, int64_t n) {
  parallel_range(n, 4, kAlign, [&](int64_t s, int64_t e) { k.tanh_forward(x + s, y + s, e - s); });
}

void par_tanh_backward(const OpsTable &k, const float *y, const float *dy, float *dx, int64_t n) {
  parallel_range(n, 1, kAlign, [&](int64_t s, int64_t e) { k.tanh_backward(y + s, dy + s, dx + s, e - s); });
}

void par_layer_norm_forward(const OpsTable &k, const float *x, const float *gamma, const float *beta, float *y,
                            float *mean, float *rstd, int64_t rows, int64_t cols, float eps) {
  parallel_range(rows, cols * 4, 1, [&](int64_t b, int64_t e) {
    k.layer_norm_forward(x + b * cols, gamma, beta, y + b * cols, mean + b, rstd + b, e - b, cols, eps);
  });
}

void par_layer_norm_backward(const OpsTable &k, const float *dy, const float *x, const float *gamma, const float *mean,
                             const float *rstd, float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t cols) {
  parallel_range(rows, cols * 4, 1, [&](int64_t b, int64_t e) {
    k.layer_norm_backward_dx(dy + b * cols, x + b * cols, gamma, mean + b, rstd + b, dx + b * cols, e - b, cols);
  });
  // dgamma/dbeta: column slices, rows in order, so no cross-thread reduction is needed.
  parallel_range(cols, rows * 2, kAlign, [&](int64_t b, int64_t e) {
    k.layer_norm_backward_params(dy + b, x + b, mean, rstd, dgamma + b, dbeta + b, rows, e - b, cols);
  });
}

void par_softmax_forward(const OpsTable &k, const float *s, const float *mask, float *y, int64_t batch, int64_t heads,
                         int64_t tq, int64_t tk, float scale) {
  const int64_t rows = batch * heads * tq;
  const int64_t rows_per_batch = heads * tq;
  parallel_range(rows, tk * 4, 1, [&](int64_t b, int64_t e) {
    // Walk in runs of rows that share one mask row.
    for (int64_t r = b; r < e;) {
      int64_t bi = r / rows_per_batch;
      int64_t run_end = std::min(e, (bi + 1) * rows_per_batch);
      k.softmax_rows(s + r * tk, mask ? mask + bi * tk : nullptr, y + r * tk, run_end - r, tk, scale);
      r = run_end;
    }
  });
}

void par_softmax_backward(const OpsTable &k, const float *y, const float *dy, float *ds, int64_t rows, int64_t tk,
                          float scale) {
  parallel_range(rows, tk * 2, 1,
                 [&](int64_t b, int64_t e) { k.softmax_backward(y + b * tk, dy + b * tk, ds + b * tk, e - b, tk, scale); });
}

uint32_t dropout_threshold(double p) {
  double t = std::floor(p * 4294967296.0);
  return t >= 4294967295.0 ? 4294967295u : (t <= 0 ? 0u : static_cast<uint32_t>(t));
}

void par_dropout_forward(const OpsTable &k, const float *x, float *y, int64_t n, double p, uint32_t seed) {
  const uint32_t th = dropout_threshold(p);
  const double inv_keep = 1.0 / (1.0 - p);
  parallel_range(n, 2, kAlign, [&](int64_t s, int64_t e) {
    k.dropout_forward(x + s, y + s, e - s, static_cast<uint64_t>(s), th, inv_keep, seed);
  });
}

// ---- fused row passes -----------------------------------------------------------------------------
// Each composes the range kernels above on one row (or one row piece) at a time, so the data makes
// one trip through memory instead of one per kernel; the arithmetic, dropout counters included, is
// that of the separate kernels.

namespace {

// Visits [b, e) in runs of whole rows of about 16 KiB (L1-resident between the composed kernels,
// and few calls even for narrow rows).
template <class F>
void row_runs(int64_t b, int64_t e, int64_t cols, F &&f) {
  const int64_t run = std::max<int64_t>(1, 4096 / std::max<int64_t>(cols, 1));
  for (int64_t r = b; r < e; r += run) f(r, std::min(run, e - r));
}

}  // namespace

void par_bias_dropout_add(const OpsTable &k, float *y, const float *bias, const float *residual, int64_t rows,
                          int64_t cols, double p, uint32_t seed) {
  const uint32_t th = dropout_threshold(p);
  const double inv_keep = 1.0 / (1.0 - p);
  parallel_range(rows, cols * 3, 1, [&](int64_t b, int64_t e) {
    row_runs(b, e, cols, [&](int64_t r, int64_t n) {
      float *yr = y + r * cols;
      k.add_bias(yr, bias, yr, n, cols);
      if (p > 0) k.dropout_forward(yr, yr, n * cols, static_cast<uint64_t>(r * cols), th, inv_keep, seed);
      k.add(yr, residual + r * cols, yr, n * cols);
    });
  });
}

void par_bias_gelu(const OpsTable &k, float *x, const float *bias, float *y, int64_t rows, int64_t cols, int approximate) {
  parallel_range(rows, cols * 5, 1, [&](int64_t b, int64_t e) {
    row_runs(b, e, cols, [&](int64_t r, int64_t n) {
      k.add_bias(x + r * cols, bias, x + r * cols, n, cols);
      k.gelu_forward(x + r * cols, y + r * cols, n * cols, approximate);
    });
  });
}

void par_gelu_backward_sum_rows(const OpsTable &k, const float *x, const float *dy, float *dx, float *db, int64_t rows,
                                int64_t cols, int approximate) {
  // Row runs (sequential memory): dx overwritten, so no zero-filled buffer is read back; then the
  // column sums exactly as par_sum_rows_acc (a column-sliced walk through the rows measured slower
  // than the second, sequential pass).
  parallel_range(rows, cols * 6, 1, [&](int64_t b, int64_t e) {
    row_runs(b, e, cols, [&](int64_t r, int64_t n) {
      std::memset(dx + r * cols, 0, sizeof(float) * static_cast<size_t>(n * cols));  // gelu_backward accumulates
      k.gelu_backward(x + r * cols, dy + r * cols, dx + r * cols, n * cols, approximate);
    });
  });
  par_sum_rows_acc(k, dx, db, rows, cols);
}

void par_dropout_backward(const OpsTable &k, const float *dy, float *dx, int64_t n, double p, uint32_t seed) {
  const uint32_t th = dropout_threshold(p);
  const double inv_keep = 1.0 / (1.0 - p);
  parallel_range(n, 2, kAlign, [&](int64_t s, int64_t e) {
    k.dropout_backward(dy + s, dx + s, e - s, static_cast<uint64_t>(s), th, inv_keep, seed);
  });
}

void par_embedding_forward(const float *table, const int32_t *ids, float *out, int64_t n, int64_t dim) {
  parallel_range(n, dim, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++)
      std::memcpy(out + r * dim, table + static_cast<int64_t>(ids[r]) * dim, sizeof(float) * dim);
  });
}

void par_embedding_backward(const float *dout, const int32_t *ids, float *dtable, int64_t n, int64_t dim) {
  // Column slices: each table entry's slice gets its rows added in row order by a single thread.
  parallel_range(dim, n, kAlign, [&](int64_t b, int64_t e) {
    for (int64_t r = 0; r < n; r++) {
      float *d = dtable + static_cast<int64_t>(ids[r]) * dim;
      const float *s = dout + r * dim;
      for (int64_t c = b; c < e; c++) d[c] += s[c];
    }
  });
}

void par_permute0213(const float *x, float *out, int64_t d0, int64_t d1, int64_t d2, int64_t d3, bool accumulate) {
  // out[a, c, b, :] = x[a, b, c, :]; work items are output rows (a, c, b).
  const int64_t rows = d0 * d2 * d1;
  parallel_range(rows, d3, 1, [&](int64_t beg, int64_t end) {
    for (int64_t o = beg; o < end; o++) {
      int64_t b = o % d1, ac = o / d1, c = ac % d2, a = ac / d2;
      const float *src = x + ((a * d1 + b) * d2 + c) * d3;
      float *dst = out + o * d3;
      if (accumulate)
        for (int64_t i = 0; i < d3; i++) dst[i] += src[i];
      else
        std::memcpy(dst, src, sizeof(float) * d3);
    }
  });
}

void par_cross_entropy_forward(const OpsTable &k, const float *logits, const int32_t *labels, const float *weights,
                               float *probs, int64_t rows, int64_t classes, int32_t ignore_index, double out[2]) {
  std::vector<double> loss(rows);
  parallel_range(rows, classes * 4, 1, [&](int64_t b, int64_t e) {
    k.cross_entropy_rows(logits + b * classes, probs + b * classes, e - b, classes, labels + b, ignore_index,
                         loss.data() + b);
  });
  double l = 0, w = 0;
  for (int64_t r = 0; r < rows; r++) {
    if (labels[r] == ignore_index) continue;
    double wr = weights ? weights[labels[r]] : 1.0;
    l += wr * loss[r];
    w += wr;
  }
  out[0] = l;
  out[1] = w;
}

void par_cross_entropy_backward(const float *probs, const int32_t *labels, const float *weights, float *dlogits,
                                int64_t rows, int64_t classes, int32_t ignore_index, float grad_scale) {
  parallel_range(rows, classes, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      int32_t lab = labels[r];
      if (lab == ignore_index) continue;
      float f = grad_scale * (weights ? weights[lab] : 1.0f);
      const float *p = probs + r * classes;
      float *d = dlogits + r * classes;
      for (int64_t c = 0; c < classes; c++) d[c] += f * (p[c] - (c == lab ? 1.0f : 0.0f));
    }
  });
}

void par_adamw(const OpsTable &k, float *p, float *g, float *m, float *v, int64_t n, double lr, double beta1,
               double beta2, double eps, double weight_decay, double step, double grad_scale, bool zero_grad) {
  // Scalars as torch computes them (in double on the host), then used in float per element.
  const float decay_mul = static_cast<float>(1.0 - lr * weight_decay);
  const double bc1 = 1.0 - std::pow(beta1, step);
  const double bc2 = 1.0 - std::pow(beta2, step);
  const float step_size = static_cast<float>(lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  parallel_range(n, 4, kAlign, [&](int64_t s, int64_t e) {
    k.adamw(p + s, g + s, m + s, v + s, e - s, decay_mul, static_cast<float>(beta1), static_cast<float>(1.0 - beta1),
            static_cast<float>(beta2), static_cast<float>(1.0 - beta2), step_size, bc2_sqrt, static_cast<float>(eps),
            static_cast<float>(grad_scale), zero_grad ? 1 : 0);
  });
}

}  // namespace tt
