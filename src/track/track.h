// shopframe tracking: follow product regions through the samples of a video and decide, per
// track, whether to suggest an item, a category, or nothing.
//
//   sf::track::options opt;                         // use the catalog's calibrated thresholds
//   opt.item_threshold = 0.8f;
//   opt.category_threshold = 0.7f;
//   sf::track::tracker t(opt);
//   for (const auto& frame : decoded_frames) {      // e.g. 2 samples per second
//     std::vector<sf::track::region> regions;
//     for (const auto& r : frame.regions)           // det_proposals boxes, embedded and searched
//       regions.push_back({r.box, r.embedding, r.matches});  // matches: top-K {item, category, score}
//     auto ok = t.add_sample(frame.time_s, /*cut=*/frame.shot_changed, regions);
//     if (!ok) return ok.err();                     // the tracker is left unchanged
//     show(t.active_suggestions());                 // live: one decision per open track
//   }
//   std::vector<sf::track::suggestion> all = t.finish();  // merged time ranges, by from_t
//
// Conventions
// - A sample is one decoded frame at time_s seconds; times must be finite and never decrease.
//   Boxes are det_box xyxy floats in frame pixels (finite, x0 <= x1, y0 <= y1).
// - Items and categories are uint32 ordinals into tables the caller keeps (catalog row, category
//   list); no_category marks an item without one. An item keeps one category for the whole stream.
// - Scores are similarities, higher is better (cosine from the index, or a calibrated confidence:
//   the thresholds are compared with whatever the caller passes). A region lists up to K matches
//   in any order, each item at most once; an item absent from a region's list counts there with
//   that list's lowest score (its K-th score), or 0 when the list is empty. Give K >= 2: with
//   K = 1 the runner-up is unknown and the margin test cannot pass unless min_margin is 0.
// - Embeddings are optional per region (empty = none); given ones must all have one dimension
//   (options::embedding_dim, or the first one seen) and a finite, non-zero norm. They are
//   normalised internally, so unit-norm input is not required.
// - Bad input yields sf::result errors (invalid_argument) naming the sample index (0-based since
//   construction or the last finish()), the region and match index and the field. Nothing here
//   throws, aborts or prints. Output is deterministic: ties break by track id, region order, id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "detect/detect.h"  // sf::det_box, sf::det_iou

namespace sf::track {

inline constexpr uint32_t no_category = std::numeric_limits<uint32_t>::max();

struct match {
  uint32_t item = 0;
  uint32_t category = no_category;
  float score = 0;
};

struct region {
  det_box box;                  // frame pixels
  std::vector<float> embedding; // query-space vector, or empty
  std::vector<match> matches;   // top-K from the index, any order
};

struct options {
  // -- association: a region continues a track when
  //      iou >= min_iou and (no embedding on either side or cosine >= min_cosine)   [it stayed put]
  //   or cosine >= reacquire_cosine                                                [it moved fast]
  // and among passing pairs the highest combined score wins, greedily:
  //      score = iou_weight * iou + (1 - iou_weight) * cosine     (score = iou without embeddings)
  // The veto keeps a different product put down in the same place from inheriting the track; the
  // re-acquire path follows a product waved across the frame between sparse samples.
  float min_iou = 0.3f;           // 0..1
  float min_cosine = 0.5f;        // -1..1
  float reacquire_cosine = 0.85f; // -1..1; above 1 disables the path
  float iou_weight = 0.5f;        // 0..1
  uint32_t max_gap = 3;           // a track ends once it missed this many consecutive samples, >= 1
  size_t embedding_dim = 0;       // 0: fixed by the first embedding seen

  // -- decision (per track): an item when the track has >= min_samples samples, its best item's
  //   aggregated score (mean over the track's samples) >= the item's threshold, and it beats the
  //   runner-up by >= min_margin. Otherwise the best item's category when a strict majority (and
  //   at least 2) of the top category_top_n items share it and that category's aggregated score
  //   (per sample: its best listed item, absent -> the list's lowest score) >= its threshold; a
  //   majority that the best item is not part of is not enough. Without a majority, the best
  //   item's category still when the runner-up belongs to another category and the best item
  //   beats it by >= category_margin (the only way to a category with one product). Otherwise
  //   none.
  // The defaults are placeholders for cosine scores; pass the thresholds the catalog calibrated.
  uint32_t min_samples = 2;       // >= 1
  float item_threshold = 0.75f;   // global; +infinity disables item suggestions
  std::unordered_map<uint32_t, float> item_thresholds;           // per item (first choice)
  std::unordered_map<uint32_t, float> category_item_thresholds;  // per category, for its items
  float min_margin = 0.05f;       // >= 0
  uint32_t category_top_n = 3;    // >= 2
  float category_threshold = 0.65f;
  float category_margin = std::numeric_limits<float>::infinity();  // >= 0; infinity: majorities only
  std::unordered_map<uint32_t, float> category_thresholds;       // per category

  double merge_gap = 1.0;         // seconds; finish() joins suggestions of one id this close, >= 0
};

enum class kind : char { item = 'i', category = 'c' };

struct suggestion {
  kind what = kind::item;
  uint32_t id = 0;          // item ordinal, or category ordinal
  double from_t = 0;        // first and last sample of the track(s)
  double to_t = 0;
  float confidence = 0;     // aggregated (mean) score; sample-weighted when merged
  float best_score = 0;     // the highest single-sample score
  double best_t = 0;        // ... and where it was seen: a good thumbnail
  det_box best_box;
  uint32_t samples = 0;     // samples supporting it (summed when merged)
  uint32_t track = 0;       // the track id (merged: the lowest)
};

class tracker {
 public:
  explicit tracker(options opt = {});

  // Adds one sample. cut = true (a hard scene cut) ends every open track first. Validates the
  // whole sample (and the options) before changing anything: on error the tracker is unchanged.
  result<void> add_sample(double time_s, bool cut, const std::vector<region>& regions);

  // The decision for each open track, as it stands (track id order, not merged).
  std::vector<suggestion> active_suggestions() const;
  // Suggestions of the tracks ended so far (end order, not merged).
  const std::vector<suggestion>& ended() const { return ended_; }
  size_t active_tracks() const { return tracks_.size(); }

  // Ends every track and returns all suggestions of the stream, merged (merge_suggestions) and
  // ordered by from_t. The tracker is then reset for a new stream (same options).
  std::vector<suggestion> finish();

 private:
  struct evidence {
    uint32_t category = no_category;  // items only
    uint32_t count = 0;               // samples that listed it
    double sum = 0;                   // its scores in those samples
    double floors_listed = 0;         // the list floors of those samples
    float best = -std::numeric_limits<float>::infinity();
    double best_t = 0;
    det_box best_box;
  };
  struct track_state {
    uint32_t id = 0;
    double from_t = 0, to_t = 0;
    uint32_t samples = 0, missed = 0;
    double floor_sum = 0;             // list floors of all its samples
    det_box box;
    std::vector<float> embedding;     // unit norm, or empty
    std::map<uint32_t, evidence> items, categories;
  };

  result<void> validate(double time_s, const std::vector<region>& regions) const;
  void observe(track_state& t, double time_s, const region& r, const std::vector<float>& unit) const;
  std::optional<suggestion> decide(const track_state& t) const;
  void end_track(const track_state& t);

  options opt_;
  std::vector<track_state> tracks_;   // open tracks, ascending id
  std::vector<suggestion> ended_;
  std::unordered_map<uint32_t, uint32_t> item_category_;  // consistency across the stream
  size_t dim_ = 0;
  size_t sample_index_ = 0;
  double last_t_ = 0;
  uint32_t next_id_ = 0;
};

// Joins suggestions of the same kind and id whose time ranges overlap or are at most merge_gap
// seconds apart; returns them ordered by from_t (then kind, id, track).
std::vector<suggestion> merge_suggestions(std::vector<suggestion> s, double merge_gap);

}  // namespace sf::track
