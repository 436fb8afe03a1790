// GEMM driver in the Goto/BLIS style: the op(B) block [kc x nc] is packed into nr-wide micro-panels,
// the op(A) block [mc x kc] into mr-tall micro-panels (unless A is not transposed and the ISA's
// micro-kernel reads its rows in place), and an ISA-specific register-blocked micro-kernel computes
// each mr x nr tile of C. Transposes are absorbed by the packing routines, so
// the user's matrices are never copied otherwise.
//
// Threads claim work from shared counters, so a slower thread takes less: whole matrices of a
// batch, or chunks of one matrix's rows (each B block packed once, together, and shared), or, for
// a few hundred rows or fewer, column units.
// Every C element is computed by exactly one thread, with the same k blocking and the same
// micro-kernel arithmetic wherever the partition boundaries fall, so results are identical for any
// thread count and any scheduling.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "common.h"
#include "thread_pool.h"

namespace tt {

namespace {

// ---- portable micro-kernel (also the arm64 path); the compiler vectorises the j loops ----------
// 4 x 8: the accumulators fit the 16 SSE registers of baseline x86-64 (and leave NEON room).
constexpr int kScalarMR = 4, kScalarNR = 8;

void micro_kernel_scalar(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                         float beta) {
  float acc[kScalarMR][kScalarNR] = {};
  for (int64_t p = 0; p < kc; p++) {
    const float *b = Bp + p * kScalarNR;
    const float *a = Ap + p * kScalarMR;
    for (int i = 0; i < kScalarMR; i++)
      for (int j = 0; j < kScalarNR; j++) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < kScalarMR; i++) {
    float *c = C + i * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < kScalarNR; j++) c[j] = alpha * acc[i][j];
    else
      for (int j = 0; j < kScalarNR; j++) c[j] = alpha * acc[i][j] + beta * c[j];
  }
}

// Aligned scratch that grows on demand; one per thread (pool workers are persistent).
struct Scratch {
  float *ptr = nullptr;
  size_t cap = 0;
  float *get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      // Packed B blocks reach megabytes and are read a 64-byte line per 4 KB page at a time while
      // packing: on 2 MB pages (where the kernel allows them) they stop costing TLB misses.
      const size_t align = n * sizeof(float) >= (size_t{2} << 20) ? (size_t{2} << 20) : 4096;
      size_t bytes = (n * sizeof(float) + align - 1) / align * align;
      ptr = static_cast<float *>(std::aligned_alloc(align, bytes));
      if (!ptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
      if (align > 4096) madvise(ptr, bytes, MADV_HUGEPAGE);
#endif
      cap = bytes / sizeof(float);
    }
    return ptr;
  }
  ~Scratch() { std::free(ptr); }
};

struct ThreadBuffers {
  Scratch a, b, tile;
};
thread_local ThreadBuffers t_buffers;

// Packs op(A)[i0.., p0..] (mc x kc) into mr-tall micro-panels: panel q holds rows q*mr..q*mr+mr-1,
// stored k-major (mr consecutive values per k). Rows past mc are zero.
void pack_a(bool transA, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr, float *dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    int64_t rows = std::min<int64_t>(mr, mc - i0);
    float *d = dst + i0 * kc;
    if (transA) {
      // op(A)(i, p) = a[p * lda + i]: each k contributes mr contiguous values.
      for (int64_t p = 0; p < kc; p++) {
        const float *s = a + p * lda + i0;
        float *dp = d + p * mr;
        int64_t r = 0;
        for (; r < rows; r++) dp[r] = s[r];
        for (; r < mr; r++) dp[r] = 0.0f;
      }
    } else {
      // op(A)(i, p) = a[i * lda + p]: transpose a rows x kc strip; go in blocks of 8 k so that the
      // reads of every row stay within a cache line or two.
      int64_t p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8) {
        for (int64_t r = 0; r < rows; r++) {
          const float *s = a + (i0 + r) * lda + p0;
          float *dp = d + p0 * mr + r;
          for (int q = 0; q < 8; q++) dp[q * mr] = s[q];
        }
      }
      for (int64_t r = 0; r < rows; r++)
        for (int64_t p = p0; p < kc; p++) d[p * mr + r] = a[(i0 + r) * lda + p];
      if (rows < mr)
        for (int64_t p = 0; p < kc; p++)
          for (int64_t r = rows; r < mr; r++) d[p * mr + r] = 0.0f;
    }
  }
}

// Packs op(B)[p0.., j0..] (kc x nc) into nr-wide micro-panels: panel q holds columns q*nr..q*nr+nr-1,
// k-major (nr consecutive values per k). Columns past nc are zero.
void pack_b(bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr, float *dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr) {
    int64_t cols = std::min<int64_t>(nr, nc - j0);
    float *d = dst + j0 * kc;
    if (!transB) {
      // op(B)(p, j) = b[p * ldb + j]: nr contiguous values per k.
      for (int64_t p = 0; p < kc; p++) {
        const float *s = b + p * ldb + j0;
        float *dp = d + p * nr;
        if (cols == nr) {
          std::memcpy(dp, s, sizeof(float) * nr);
        } else {
          int64_t j = 0;
          for (; j < cols; j++) dp[j] = s[j];
          for (; j < nr; j++) dp[j] = 0.0f;
        }
      }
    } else {
      // op(B)(p, j) = b[j * ldb + p]: transpose, blocks of 8 k per column.
      int64_t p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8) {
        for (int64_t j = 0; j < cols; j++) {
          const float *s = b + (j0 + j) * ldb + p0;
          float *dp = d + p0 * nr + j;
          for (int q = 0; q < 8; q++) dp[q * nr] = s[q];
        }
      }
      for (int64_t j = 0; j < cols; j++)
        for (int64_t p = p0; p < kc; p++) d[p * nr + j] = b[(j0 + j) * ldb + p];
      if (cols < nr)
        for (int64_t p = 0; p < kc; p++)
          for (int64_t j = cols; j < nr; j++) d[p * nr + j] = 0.0f;
    }
  }
}

// C = beta * C for an m x n matrix (beta == 0 writes zeros without reading).
void scale_c(float *c, int64_t ldc, int64_t m, int64_t n, float beta) {
  for (int64_t i = 0; i < m; i++) {
    float *r = c + i * ldc;
    if (beta == 0.0f)
      std::memset(r, 0, sizeof(float) * n);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < n; j++) r[j] *= beta;
  }
}

// Splits total into about total / target equal blocks and returns the block size rounded up to a
// multiple of `multiple`: balanced, so the last block is not a sliver.
int64_t balanced_block(int64_t total, int64_t target, int64_t multiple) {
  const int64_t blocks = std::max<int64_t>(1, (total + target - 1) / target);
  return ((total + blocks - 1) / blocks + multiple - 1) / multiple * multiple;
}

// Rows per packed A block for a thread owning m rows: about cfg.mc.
int64_t balanced_mc(const GemmConfig &cfg, int64_t m) { return balanced_block(m, cfg.mc, cfg.mr); }

// Depth of each packed block: about cfg.kc. Depends on k only (never on the thread count), which
// keeps the summation order, and so the result, independent of the partitioning.
int64_t balanced_kc(const GemmConfig &cfg, int64_t k) { return balanced_block(k, cfg.kc, 1); }

// Columns of each packed B block for a thread owning m rows of an n-column product. Few rows reuse
// each B block only a few times, so there it should stay in L2 (about kc x nc_few_rows); otherwise
// cfg.nc. Never changes the summation order.
int64_t block_nc(const GemmConfig &cfg, int64_t m, int64_t n) {
  if (cfg.nc_few_rows <= 0 || m > 4 * cfg.mc) return cfg.nc;
  return balanced_block(n, cfg.nc_few_rows, cfg.nr);
}

void pack_b_block(const GemmConfig &cfg, bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc, float *dst) {
  if (cfg.pack_b)
    cfg.pack_b(transB, b, ldb, kc, nc, dst);
  else
    pack_b(transB, b, ldb, kc, nc, cfg.nr, dst);
}

// For rows [r0, r1) of C and columns [jc, jc + nc): packs each A block (rows x kc at depth pc) and
// runs the micro-kernel over it against the packed B block bp (kc x nc), whose nr-wide micro-panels
// start bstride floats apart (kc * nr in a block packed here, k * nr in a pre-packed matrix).
void macro_rows(const GemmConfig &cfg, bool transA, const float *a, int64_t lda, int64_t pc, int64_t kc, int64_t r0,
                int64_t r1, int64_t MC, const float *bp, int64_t bstride, int64_t jc, int64_t nc, float *c, int64_t ldc,
                float alpha, float beta_eff, float *ap, float *tile) {
  const int MR = cfg.mr, NR = cfg.nr;
  // A not transposed already holds each row's k values consecutively: where the ISA has a kernel
  // that reads A in place, A is not packed at all (the tile's 6 rows stream from the source).
  const bool rows_a = !transA && cfg.kernel_rows_a;
  for (int64_t ic = r0; ic < r1; ic += MC) {
    int64_t mc = std::min(MC, r1 - ic);
    const float *asrc = transA ? a + pc * lda + ic : a + ic * lda + pc;
    if (rows_a) {
      // nothing to pack
    } else if (cfg.pack_a) {
      cfg.pack_a(transA, asrc, lda, mc, kc, ap);
    } else {
      pack_a(transA, asrc, lda, mc, kc, MR, ap);
    }
    for (int64_t jr = 0; jr < nc; jr += NR) {
      int64_t nr = std::min<int64_t>(NR, nc - jr);
      const float *bpanel = bp + jr / NR * bstride;
      for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t mr = std::min<int64_t>(MR, mc - ir);
        float *cp = c + (ic + ir) * ldc + jc + jr;
        const float *apanel = ap + ir * kc;
        if (mr == MR && nr == NR) {
          if (rows_a) cfg.kernel_rows_a(kc, asrc + ir * lda, lda, MR, bpanel, cp, ldc, alpha, beta_eff);
          else cfg.kernel(kc, apanel, bpanel, cp, ldc, alpha, beta_eff);
        } else {
          // Edge tile: run the kernel on a full-size scratch tile holding the valid part of C, so
          // every element gets exactly the arithmetic of a full tile (results do not depend on
          // where the partition boundaries fall).
          if (beta_eff != 0.0f)
            for (int64_t i = 0; i < mr; i++)
              for (int64_t j = 0; j < nr; j++) tile[i * NR + j] = cp[i * ldc + j];
          if (rows_a) cfg.kernel_rows_a(kc, asrc + ir * lda, lda, static_cast<int>(mr), bpanel, tile, NR, alpha, beta_eff);
          else cfg.kernel(kc, apanel, bpanel, tile, NR, alpha, beta_eff);
          for (int64_t i = 0; i < mr; i++)
            for (int64_t j = 0; j < nr; j++) cp[i * ldc + j] = tile[i * NR + j];
        }
      }
    }
  }
}

// One matrix product on the calling thread.
// packed: op(B) pre-packed (pack_gemm_b) from its first column on, or null.
void gemm_serial(const GemmConfig &cfg, bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, const float *packed, float beta, float *c,
                 int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(c, ldc, m, n, beta);
    return;
  }
  const int64_t MC = balanced_mc(cfg, m), kcb = balanced_kc(cfg, k), NC = block_nc(cfg, m, n);
  ThreadBuffers &tb = t_buffers;
  float *bp = packed ? nullptr : tb.b.get(static_cast<size_t>(kcb) * ((std::min(NC, n) + cfg.nr - 1) / cfg.nr * cfg.nr));
  float *ap = tb.a.get(static_cast<size_t>(kcb) * MC);
  float *tile = tb.tile.get(static_cast<size_t>(cfg.mr) * cfg.nr);
  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kcb) {
      int64_t kc = std::min(kcb, k - pc);
      if (!packed) pack_b_block(cfg, transB, transB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, kc, nc, bp);
      macro_rows(cfg, transA, a, lda, pc, kc, 0, m, MC, packed ? packed + jc * k + pc * cfg.nr : bp,
                 (packed ? k : kc) * cfg.nr, jc, nc, c, ldc, alpha, pc == 0 ? beta : 1.0f, ap, tile);
    }
  }
}

// One matrix product on all pool threads, balanced as it runs. C's rows are cut into chunks (up to
// mc rows, about 4 per thread where the rows allow) and op(B) into blocks (kc x nc), each packed
// once into one of two shared buffers. Block after block, threads claim B panels to pack and then
// row chunks to compute from shared counters; there is no barrier, so a thread that runs slower
// (another process on its core, a smaller core of a hybrid CPU) claims fewer chunks instead of
// holding the others up, and a worker that has not started is not waited for. Two waits keep the
// result exact and the buffers safe: a chunk is computed against block b only once the same chunk
// has finished block b - 1 (every element adds up its k blocks in the same order as on one
// thread), and a buffer is packed again only once every chunk has finished the block that last
// used it.
void gemm_shared_b(ThreadPool &tp, const GemmConfig &cfg, bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                   float alpha, const float *a, int64_t lda, const float *b, int64_t ldb, const float *packed, float beta,
                   float *c, int64_t ldc) {
  const int T = tp.size();
  const int64_t kcb = balanced_kc(cfg, k), NC = block_nc(cfg, (m + T - 1) / T, n), NR = cfg.nr;
  // Chunks: about four per thread, but no fewer than 8 mr rows, so that each pass over a B block
  // (from L2 or L3) still serves enough rows when many threads share few rows.
  const int64_t MC = balanced_block(m, std::min<int64_t>(cfg.mc, std::max<int64_t>(8 * cfg.mr, m / (4 * T))), cfg.mr);
  const int64_t chunks = (m + MC - 1) / MC, kblocks = (k + kcb - 1) / kcb, blocks = (n + NC - 1) / NC * kblocks;
  const size_t bsize = static_cast<size_t>(kcb) * ((std::min(NC, n) + NR - 1) / NR * NR);
  float *bufs = packed ? nullptr : t_buffers.b.get(2 * bsize);
  // Per block: panels claimed and packed, chunks claimed and finished; per chunk: blocks finished.
  std::unique_ptr<std::atomic<int64_t>[]> counters(new std::atomic<int64_t>[4 * blocks + chunks]);
  for (int64_t i = 0; i < 4 * blocks + chunks; i++) counters[i].store(0, std::memory_order_relaxed);
  std::atomic<int64_t> *pack_claimed = counters.get(), *pack_done = pack_claimed + blocks,
                       *chunk_claimed = pack_done + blocks, *chunks_done = chunk_claimed + blocks,
                       *progress = chunks_done + blocks;
  tp.run([&](int, int) {
    ThreadBuffers &tb = t_buffers;
    float *ap, *tile;
    try {
      ap = tb.a.get(static_cast<size_t>(kcb) * MC);
      tile = tb.tile.get(static_cast<size_t>(cfg.mr) * cfg.nr);
    } catch (const std::bad_alloc &) {
      return;  // this thread claims nothing; the others do the work (checked below)
    }
    for (int64_t blk = 0; blk < blocks; blk++) {
      const int64_t jc = blk / kblocks * NC, pc = blk % kblocks * kcb;
      const int64_t nc = std::min(NC, n - jc), kc = std::min(kcb, k - pc);
      const float *bp = packed ? packed + jc * k + pc * NR : bufs + (blk & 1) * bsize;
      if (!packed) {  // a pre-packed B has nothing to pack and nothing to wait for
        const int64_t panels = (nc + NR - 1) / NR, units = std::min<int64_t>(panels, 4 * T);
        if (pack_claimed[blk].load(std::memory_order_relaxed) < units) {
          if (blk >= 2) wait_until([&] { return chunks_done[blk - 2].load(std::memory_order_acquire) == chunks; });
          for (int64_t u; (u = pack_claimed[blk].fetch_add(1, std::memory_order_relaxed)) < units;) {
            const int64_t j0 = u * panels / units * NR, j1 = std::min(nc, (u + 1) * panels / units * NR);
            const float *bsrc = transB ? b + (jc + j0) * ldb + pc : b + pc * ldb + jc + j0;
            pack_b_block(cfg, transB, bsrc, ldb, kc, j1 - j0, bufs + (blk & 1) * bsize + j0 * kc);
            pack_done[blk].fetch_add(1, std::memory_order_release);
          }
        }
        wait_until([&] { return pack_done[blk].load(std::memory_order_acquire) == units; });
      }
      for (int64_t r; (r = chunk_claimed[blk].fetch_add(1, std::memory_order_relaxed)) < chunks;) {
        wait_until([&] { return progress[r].load(std::memory_order_acquire) == blk; });
        macro_rows(cfg, transA, a, lda, pc, kc, r * MC, std::min(m, (r + 1) * MC), MC, bp, (packed ? k : kc) * NR, jc,
                   nc, c, ldc, alpha, pc == 0 ? beta : 1.0f, ap, tile);
        progress[r].store(blk + 1, std::memory_order_release);
        chunks_done[blk].fetch_add(1, std::memory_order_release);
      }
    }
  });
  // Every thread that joined finished its claims; if none could allocate its buffers, nothing ran.
  if (chunks_done[blocks - 1].load(std::memory_order_acquire) != chunks) throw std::bad_alloc();
}

}  // namespace

GemmConfig gemm_config_scalar() {
  GemmConfig cfg;
  cfg.mr = kScalarMR;
  cfg.nr = kScalarNR;
  cfg.kc = 256;
  cfg.mc = 128;
  cfg.nc = 2048;
  cfg.kernel = micro_kernel_scalar;
  return cfg;
}

static GemmConfig config_for(Isa isa) {
#if TT_X86
  if (isa == ISA_AVX512) return gemm_config_avx512();
  if (isa == ISA_AVX2) return gemm_config_avx2();
#endif
#if TT_ARM
  if (isa == ISA_NEON) return gemm_config_neon();
#endif
  (void)isa;
  return gemm_config_scalar();
}

// Narrow products (a classifier head with a handful of labels) would waste most of the 64-wide
// AVX-512 tile; the 16-wide AVX2 tile does the same per-element arithmetic with less padding.
static GemmConfig config_for(Isa isa, int64_t n) { return config_for(isa == ISA_AVX512 && n <= 32 ? ISA_AVX2 : isa); }

int packed_b_nr(Isa isa, int64_t n) { return config_for(isa, n).nr; }

void pack_gemm_b(Isa isa, bool transB, const float *b, int64_t ldb, int64_t n, int64_t k, float *dst) {
  const GemmConfig cfg = config_for(isa, n);
  // One block of depth k: panel q (columns q*nr..) is then k x nr, k-major, and any k blocking of
  // the product finds its kc x nr part at dst + q * k * nr + pc * nr.
  if (n > 0 && k > 0) pack_b_block(cfg, transB, b, ldb, k, n, dst);
}

void gemm(const GemmArgs &g, Isa isa) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (blas_gemm(g)) return;
  const GemmConfig cfg = config_for(isa, g.n);
  // A pre-packed op(B) is used where its panels are this configuration's width (one matrix only).
  const float *packed = g.packed_b && g.packed_nr == cfg.nr && g.batch == 1 ? g.packed_b : nullptr;
  ThreadPool &tp = pool();
  const int T = tp.size();
  auto one = [&](int64_t i, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const float *a = g.a + i * g.strideA;
    const float *b = g.b + i * g.strideB;
    float *c = g.c + i * g.strideC;
    a += g.transA ? m0 : m0 * g.lda;
    b += g.transB ? n0 * g.ldb : n0;
    c += m0 * g.ldc + n0;
    // n0 is a multiple of nr wherever a packed matrix is passed (column units are nr-aligned).
    gemm_serial(cfg, g.transA, g.transB, m1 - m0, n1 - n0, g.k, g.alpha, a, g.lda, b, g.ldb,
                packed ? packed + n0 * g.k : nullptr, g.beta, c, g.ldc);
  };
  double work = static_cast<double>(g.m) * g.n * (g.k > 0 ? g.k : 1) * g.batch;
  if (T == 1 || g.serial || work < 2097152.0) {  // < ~40 us of work: waking threads costs more than it saves
    for (int64_t i = 0; i < g.batch; i++) one(i, 0, g.m, 0, g.n);
    return;
  }
  if (g.batch % T == 0 || g.batch >= 4 * T) {
    // Whole matrices, claimed one at a time: a slower thread takes fewer.
    std::atomic<int64_t> next{0};
    tp.run([&](int, int) {
      for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < g.batch;) one(i, 0, g.m, 0, g.n);
    });
    return;
  }
  // Few rows (a batch of one sequence): column units of about a quarter of a thread's share,
  // claimed from a shared counter, each packing its own B panels. No barriers, and a worker that is
  // late (a loaded machine) leaves its units to the others instead of holding them up. Units are
  // whole nr-wide panels; their count is a multiple of the thread count that divides the panels
  // evenly where one up to 4 T does (2304 columns on AVX-512: 6 units of 6 panels, where units of
  // a quarter share rounded up to whole panels gave 7 x 320 + 64 and one thread 11% more work),
  // else 4 T units dealt out evenly.
  const int64_t panels = (g.n + cfg.nr - 1) / cfg.nr;
  int64_t units = std::min<int64_t>(panels, 4 * T);
  for (int64_t u = 4 * T; u >= T; u -= T)
    if (panels % u == 0) {
      units = u;
      break;
    }
  auto unit_col = [&](int64_t u) { return std::min(g.n, u * panels / units * cfg.nr); };
  const bool many_rows = g.m >= static_cast<int64_t>(T) * cfg.mr * 4;
  if (g.k > 0 && g.alpha != 0.0f && many_rows && (g.m > 2 * cfg.mc || units < T)) {
    // Enough rows for every thread: chunks of rows, sharing each packed B block.
    for (int64_t i = 0; i < g.batch; i++)
      gemm_shared_b(tp, cfg, g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a + i * g.strideA, g.lda,
                    g.b + i * g.strideB, g.ldb, packed, g.beta, g.c + i * g.strideC, g.ldc);
    return;
  }
  std::atomic<int64_t> next{0};
  tp.run([&](int, int) {
    for (int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;)
      for (int64_t i = 0; i < g.batch; i++) one(i, 0, g.m, unit_col(u), unit_col(u + 1));
  });
}

}  // namespace tt
