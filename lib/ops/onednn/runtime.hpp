// What every oneDNN-backed op in lib/ops/onednn/ shares (these files are the only ones that include
// oneDNN): the engine (made after the instruction-set cap is handed to oneDNN), per-thread streams,
// primitive caches keyed by shape, row-major descriptors, per-thread scratch, and strided matmuls.
// Each primitive is created once per shape and cached ("create once, execute many times").
//
// Debian ships oneDNN 2.6 (operation descriptors, `append_eltwise(scale, ...)`, output scales).
// oneDNN 3.x replaced those; the #if below is where a port would start.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "ops/ops.hpp"  // Activation

#if DNNL_VERSION_MAJOR != 2
#error "lib/ops/onednn/ is written against the oneDNN 2.x API (Debian 12 ships 2.6)"
#endif

namespace bert::ops::dnn {

using dnnl::algorithm;
using dnnl::memory;
using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

// The CPU engine, made once, after BERTCTL_MAX_ISA has capped oneDNN.
dnnl::engine& engine();

// A cache of primitives (and whatever else an op needs per shape), keyed by a string that spells
// out every parameter the primitive depends on. A stream of ever new shapes must not grow memory
// without bound, so past kCapacity entries the least recently used one goes; a reference from
// get() stays valid until the next get() that inserts.
template <class Entry>
class PrimitiveCache {
 public:
  static constexpr size_t kCapacity = 512;

  template <class Make>
  Entry& get(const std::string& key, Make make) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      if (map_.size() >= kCapacity) evict_oldest();
      it = map_.emplace(key, Slot{std::make_unique<Entry>(make()), 0}).first;
    }
    it->second.last_use = ++clock_;
    return *it->second.entry;
  }

 private:
  struct Slot {
    std::unique_ptr<Entry> entry;
    uint64_t last_use;
  };
  void evict_oldest() {
    auto oldest = map_.begin();
    for (auto it = map_.begin(); it != map_.end(); ++it)
      if (it->second.last_use < oldest->second.last_use) oldest = it;
    map_.erase(oldest);
  }

  std::mutex mutex_;
  std::unordered_map<std::string, Slot> map_;
  uint64_t clock_ = 0;
};

// Primitives made inside a parallel region run on the calling thread alone (see on_own_threads);
// they live in a cache of that thread: never mixed up with primitives that split their work over
// all threads, no lock, and no other thread can evict them while they run.
template <class Entry>
PrimitiveCache<Entry>& cache_here(PrimitiveCache<Entry>& shared) {
  thread_local PrimitiveCache<Entry> own;
  return omp_in_parallel() ? own : shared;
}

// fn(i) for i < count spread over oneDNN's threads, each call on one thread with single-threaded
// primitives. For many small independent pieces (attention per sequence and head group) this beats
// splitting each primitive over all threads: no barrier inside a piece, its data stays in one core's
// cache. The first exception is rethrown once every thread is done.
template <class Fn>
void on_own_threads(int count, Fn fn) {
  const int threads = std::min(omp_get_max_threads(), count);
  if (threads <= 1 || omp_in_parallel()) {
    for (int i = 0; i < count; ++i) fn(i);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel num_threads(threads)
  {
    omp_set_num_threads(1);  // what oneDNN sees when it makes and runs this thread's primitives
#pragma omp for schedule(dynamic, 1)
    for (int i = 0; i < count; ++i) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

memory::desc plain(dims d);  // row-major f32
memory mem(const memory::desc& md, const void* p);
// Each thread executes on a stream of its own: attention runs primitives on several threads at once.
dnnl::stream& this_stream();
// Runs a primitive on this thread's stream and waits for it.
void run(const dnnl::primitive& prim, const std::unordered_map<int, memory>& args);
algorithm eltwise_algorithm(Activation act);

// Scratch buffers for intermediate results, one set per thread, grown as needed. Slots: 0-2 the
// backward passes of layer norm, activations, softmax; 2-3 attention's dropout and score
// gradients; 4 attention pieces' scores; 5 their head-major copies.
float* scratch(int slot, size_t n);
// Attributes whose primitive adds its result into the destination (a sum post-op).
dnnl::primitive_attr accumulating();
void add_into(float* dst, const float* src, size_t n);
// dst = a ⊙ b elementwise (dst may be a), on oneDNN's threads.
void multiply(float* dst, const float* a, const float* b, size_t n);

// A key that spells out a descriptor: dims, strides, format, type and blocking.
std::string md_key(const memory::desc& md);

struct MatmulEntry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};
MatmulEntry make_matmul(const memory::desc& a, const memory::desc& b, const memory::desc* bias, const memory::desc& c,
                        const dnnl::primitive_attr& attr);
// Matmuls of attention, cached per shape (on the calling thread's own cache in parallel regions).
PrimitiveCache<MatmulEntry>& matmul_cache();
// c (+)= scale · a·b for (possibly batched, strided) a, b, c; `accumulate` adds into c.
void matmul_into(float* c, const memory::desc& cd, const float* a, const memory::desc& ad, const float* b,
                 const memory::desc& bd, float scale, bool accumulate);

}  // namespace bert::ops::dnn
