#include "thread_pool.h"

#include <cstdlib>
#include <memory>

namespace tt {

namespace {

// Polling before a thread goes to sleep: 4000 pauses, about 0.1 ms on Zen 4 (26 ns a pause).
constexpr int kSpinIterations = 4000;

}  // namespace

ThreadPool::ThreadPool(int nthreads) : nthreads_(nthreads < 1 ? 1 : nthreads) {
  for (int t = 1; t < nthreads_; t++) workers_.emplace_back([this, t] { worker(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto &w : workers_) w.join();
}

void ThreadPool::worker(int tid) {
  uint64_t seen = 0;  // generation of the last job this thread looked at
  auto generation = [this] { return state_.load(std::memory_order_acquire) >> 32; };
  for (;;) {
    bool ready = false;
    for (int i = 0; i < kSpinIterations; i++) {
      if (generation() != seen || stop_.load(std::memory_order_relaxed)) {
        ready = true;
        break;
      }
      cpu_relax();
    }
    if (!ready) {
      std::unique_lock<std::mutex> lk(mu_);
      start_cv_.wait(lk, [&] { return stop_.load() || generation() != seen; });
    }
    if (stop_.load()) return;
    seen = generation();
    join(tid, seen);
  }
}

// Enters job `gen` if it still admits workers (same generation, still open), runs fn, leaves.
void ThreadPool::join(int tid, uint64_t gen) {
  uint64_t cur = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((cur >> 32) != gen || !(cur & kOpen)) return;  // too late: the caller has finished without us
    if (state_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
  }
  try {
    fn_(ctx_, tid, nthreads_);  // fn_ and ctx_ are stable: the caller waits for the count to drop to 0
  } catch (...) {
    std::lock_guard<std::mutex> lk(mu_);
    if (!error_) error_ = std::current_exception();
  }
  const uint64_t after = state_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if ((after & kCountMask) == 0 && !(after & kOpen)) {
    std::lock_guard<std::mutex> lk(mu_);
    done_cv_.notify_one();
  }
}

void ThreadPool::run(Fn fn, void *ctx) {
  if (nthreads_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  std::lock_guard<std::mutex> run_lk(run_mu_);
  {
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = fn;
    ctx_ = ctx;
    error_ = nullptr;
    const uint64_t gen = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    state_.store((gen << 32) | kOpen, std::memory_order_release);
  }
  start_cv_.notify_all();
  std::exception_ptr err;
  try {
    fn(ctx, 0, nthreads_);
  } catch (...) {
    err = std::current_exception();
  }
  // Close admission, then wait only for the workers that entered (they are running, not asleep).
  state_.fetch_and(~kOpen, std::memory_order_acq_rel);
  auto busy = [this] { return (state_.load(std::memory_order_acquire) & kCountMask) != 0; };
  for (int i = 0; i < kSpinIterations && busy(); i++) cpu_relax();
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return !busy(); });
  if (!err) err = error_;
  error_ = nullptr;
  lk.unlock();
  if (err) std::rethrow_exception(err);
}

int default_thread_count() {
  const char *env = std::getenv("TOKENTUNE_THREADS");
  if (env && *env) {
    char *end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}

// The pool is created on first use; the mutex makes that safe if two JS worker threads race to it.
// (Resizing while another thread runs a kernel is not supported: setThreads is a startup knob.)
static std::unique_ptr<ThreadPool> g_pool;
static std::mutex g_pool_mu;

ThreadPool &pool() {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (!g_pool) g_pool.reset(new ThreadPool(default_thread_count()));
  return *g_pool;
}

void set_pool_threads(int n) {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  g_pool.reset();
  g_pool.reset(new ThreadPool(n));
}

}  // namespace tt
