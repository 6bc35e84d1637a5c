// OrderedWorkers: run a function over batches on worker threads and hand the results back in
// submission order, with a bounded number of batches in flight (so unbounded input streams in
// bounded memory). An exception thrown by the work is rethrown by submit()/finish() when its
// batch's turn to be emitted comes, after every earlier batch was emitted.
//
//   OrderedWorkers<Lines, std::string> pool(threads, [&](Lines& in) { return tokenize(in); },
//                                           [&](std::string& out) { write(out); });
//   while (read(lines)) pool.submit(std::move(lines));
//   pool.finish();
#pragma once
#include <sys/resource.h>  // setpriority
#include <sys/syscall.h>   // SYS_gettid
#include <unistd.h>        // syscall

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace bert {

template <class Batch, class Result>
class OrderedWorkers {
 public:
  using Work = std::function<Result(Batch&)>;
  using Emit = std::function<void(Result&)>;

  // threads <= 1 runs everything on the caller's thread. `background` workers run at the lowest
  // scheduling priority: they fill the gaps of a caller whose own work keeps every core busy (the
  // model's OpenMP threads), instead of taking cores from it.
  OrderedWorkers(int threads, Work work, Emit emit, int window = 0, bool background = false)
      : work_(std::move(work)), emit_(std::move(emit)) {
    window_ = window > 0 ? size_t(window) : size_t(threads > 1 ? 4 * threads : 1);
    if (threads > 1)
      for (int i = 0; i < threads; ++i)
        workers_.emplace_back([this, background] {
          if (background) lower_this_thread_priority();
          worker_loop();
        });
  }

  ~OrderedWorkers() { stop(); }

  void submit(Batch batch) {
    if (workers_.empty()) {
      Result r = work_(batch);
      emit_(r);
      return;
    }
    {
      std::unique_lock lock(mutex_);
      slots_.push_back(Slot{std::move(batch), false, false, std::nullopt, nullptr});
    }
    ready_.notify_one();
    drain(window_);
  }

  // Emits every batch submitted so far (waiting for them): before the caller blocks on input that
  // has not arrived, so an interactive pipe gets its answers now rather than a window later.
  void emit_all() {
    if (!workers_.empty()) drain(0);
  }

  void finish() {
    emit_all();
    stop();
  }

 private:
  static void lower_this_thread_priority() {
    // Linux threads have their own nice value; setpriority takes a thread id.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
  }

  struct Slot {
    Batch batch;
    bool started = false;
    bool done = false;
    std::optional<Result> result;
    std::exception_ptr error;
  };

  // Emit finished batches in order: every one already done, then wait until at most `keep` remain
  // in flight (keep = 0: until all are emitted).
  void drain(size_t keep) {
    for (;;) {
      std::unique_lock lock(mutex_);
      if (slots_.empty()) return;
      if (!slots_.front().done) {
        if (keep > 0 && slots_.size() <= keep) return;
        finished_.wait(lock, [&] { return slots_.front().done; });
      }
      Slot slot = std::move(slots_.front());
      slots_.pop_front();
      lock.unlock();
      if (slot.error) {
        stop();
        std::rethrow_exception(slot.error);
      }
      emit_(*slot.result);
    }
  }

  void worker_loop() {
    for (;;) {
      Slot* slot = nullptr;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] {
          if (stopping_) return true;
          for (auto& s : slots_)
            if (!s.started) return true;
          return false;
        });
        if (stopping_) return;
        for (auto& s : slots_)
          if (!s.started) {
            slot = &s;
            break;
          }
        slot->started = true;
      }
      // std::deque keeps element addresses stable under push_back/pop_front of other elements,
      // and the front is only popped once done.
      std::optional<Result> result;
      std::exception_ptr error;
      try {
        result.emplace(work_(slot->batch));
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::unique_lock lock(mutex_);
        slot->result = std::move(result);
        slot->error = error;
        slot->done = true;
      }
      finished_.notify_all();
    }
  }

  void stop() {
    {
      std::unique_lock lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  Work work_;
  Emit emit_;
  size_t window_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable ready_, finished_;
  std::deque<Slot> slots_;
  bool stopping_ = false;
};

}  // namespace bert
