// Bounded top-k by score (highest first), as a min-heap of the k best so far.
// NaN scores are dropped, so a corrupt value can never break the ordering.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sf {

class topk {
 public:
  struct entry {
    float score;
    uint32_t id;
  };

  explicit topk(size_t k) : k_(k) { heap_.reserve(k); }

  // Cheap rejection first: most candidates in a scan lose to the current k-th best.
  void push(float score, uint32_t id) {
    if (k_ == 0 || !(score == score)) return;
    if (heap_.size() < k_) {
      heap_.push_back({score, id});
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    } else if (score > heap_.front().score) {
      std::pop_heap(heap_.begin(), heap_.end(), worse_first);
      heap_.back() = {score, id};
      std::push_heap(heap_.begin(), heap_.end(), worse_first);
    }
  }

  // Best first; ties broken by smaller id so results are deterministic.
  std::vector<entry> sorted() const {
    std::vector<entry> v(heap_);
    std::sort(v.begin(), v.end(), [](const entry& a, const entry& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    return v;
  }

 private:
  // Heap order: the worst entry (lowest score, then highest id) at the front.
  static bool worse_first(const entry& a, const entry& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  }
  size_t k_;
  std::vector<entry> heap_;
};

}  // namespace sf
