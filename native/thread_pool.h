// A persistent pool of worker threads. run(fn) is for jobs whose threads claim work units from
// shared counters: fn(tid, nthreads) runs on the calling thread (tid 0) and on every worker that
// arrives before the caller's own fn returns; a worker that arrives later (descheduled on a loaded
// machine) skips the job, so the caller never waits for a thread that has not started, only for
// workers still inside fn. An exception thrown on any thread is rethrown by run() once they are
// out (so no worker outlives the job's state). Callers hand out the work so that results never
// depend on which thread takes which unit. Idle workers spin briefly (a job often follows within
// microseconds) and then sleep on a condition variable.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "common.h"

namespace tt {

class ThreadPool {
 public:
  explicit ThreadPool(int nthreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return nthreads_; }

  typedef void (*Fn)(void *ctx, int tid, int nthreads);
  void run(Fn fn, void *ctx);

  // Convenience: any callable f(tid, nthreads).
  template <class F>
  void run(F &&f) {
    typedef typename std::remove_reference<F>::type Callable;
    run([](void *ctx, int tid, int nt) { (*static_cast<Callable *>(ctx))(tid, nt); }, static_cast<void *>(&f));
  }

 private:
  void worker(int tid);

  int nthreads_;
  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one job at a time (e.g. calls from several worker_threads)
  std::mutex mu_;      // guards the sleeping side of the hand-offs below
  std::condition_variable start_cv_, done_cv_;
  // Job state in one word, so a worker reads a job's generation and whether it still admits
  // workers together: generation in the high 32 bits (bumped per job, release; workers wait for a
  // change), kOpen (the caller is still inside fn) and the count of workers inside fn.
  static constexpr uint64_t kOpen = 1ull << 30, kCountMask = kOpen - 1;
  std::atomic<uint64_t> state_{0};
  void join(int tid, uint64_t gen);
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;  // first exception thrown by a worker in the current job (under mu_)
  Fn fn_ = nullptr;           // published by the state_ release
  void *ctx_ = nullptr;
};

// One polling step of a spin wait: the CPU's pause hint.
inline void cpu_relax() {
#if TT_X86
  __builtin_ia32_pause();
#elif TT_ARM
  __asm__ __volatile__("yield");
#else
  std::this_thread::yield();
#endif
}

// Spins briefly until ready() holds, then yields the core between checks (the machine may be shared).
template <class F>
void wait_until(F ready) {
  for (int spins = 0; !ready(); spins++) {
    if (spins < 2000) cpu_relax();
    else std::this_thread::yield();
  }
}

// The process-wide pool (created on first use with TOKENTUNE_THREADS or hardware_concurrency()).
ThreadPool &pool();
// Replaces the pool with one of n threads (n >= 1).
void set_pool_threads(int n);
int default_thread_count();

// Splits [0, n) into nt nearly equal contiguous parts, each (except possibly the last) a multiple of
// `align`; returns part tid as [*b, *e).
inline void split_range(int64_t n, int tid, int nt, int64_t align, int64_t *b, int64_t *e) {
  int64_t units = (n + align - 1) / align;
  int64_t ub = units * tid / nt, ue = units * (tid + 1) / nt;
  *b = ub * align < n ? ub * align : n;
  *e = ue * align < n ? ue * align : n;
}

}  // namespace tt
