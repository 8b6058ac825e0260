// Embedding post-processing and catalog adaptation (regularised LDA).
//
//   // feats: n x 1280 MobileNetV2 pooled features, labels: product class per row
//   sf::embed::lda_options opt;                    // out_dim 80, reg 0.1, power-normalise first
//   auto t = sf::embed::lda_train(feats.data(), n, 1280, labels.data(), labels.size(), opt);
//   if (!t) return t.err();
//   std::vector<float> x = query;                  // one 1280-d embedding
//   sf::embed::power_normalize(x.data(), x.size());          // the same preprocessing as training
//   sf::embed::l2_normalize(x.data(), 1, x.size());
//   std::vector<float> y(t.value().out_d);
//   t.value().apply(x.data(), 1, y.data());
//   sf::embed::l2_normalize(y.data(), 1, y.size());          // compare with cosine / dot
//
// Data conventions: embeddings are float32, row-major n x d, contiguous (row i starts at
// i*d). Labels are one uint32 per row; any values (they need not be dense). The caller
// owns every buffer; functions write only to the `out` buffers they are given (which
// may alias the input where stated). Nothing here prints, throws or aborts; functions
// that can fail on bad input return sf::result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "index/pca.h"  // sf::linear_transform

namespace sf::embed {

// ---- post-processing (element-wise or per row; in place when out == in) ----

// x[i] = sign(x[i]) * |x[i]|^alpha for `count` floats. alpha 0.5 is the signed square
// root ("power normalisation"). NaN stays NaN.
void power_normalize(float* x, size_t count, float alpha = 0.5f);
void power_normalize(const float* in, float* out, size_t count, float alpha = 0.5f);

// Each of the n rows of length d scaled to unit L2 norm; all-zero (or non-finite-norm)
// rows are left unchanged.
void l2_normalize(float* x, size_t n, size_t d);
void l2_normalize(const float* in, float* out, size_t n, size_t d);

// out = (a + b) / 2 element-wise (e.g. an image and its horizontal flip); out may be a or b.
void average(const float* a, const float* b, float* out, size_t count);
// out (d floats) = mean of the m consecutive rows of `rows` (m x d); out may be rows[0..d).
// m == 0 leaves out unchanged.
void mean_rows(const float* rows, size_t m, size_t d, float* out);

// ---- region embeddings from one pass over the whole frame ----
// A model with manifest "pooling": "regions" (e.g. mobilenetv2-f32-multiscale-maps288) outputs
// feature maps of the whole frame instead of one embedding per cropped region; each region's
// embedding is pooled from them, so a frame costs one pass however many regions it has.
struct feature_map {  // one output, NCHW with batch 1, row-major
  const float* data = nullptr;
  size_t channels = 0, height = 0, width = 0;
};
struct unit_box {  // a region as fractions of the frame's width and height
  float x0 = 0, y0 = 0, x1 = 1, y1 = 1;
};
// out (the maps' channels in all) = for each map in order: every channel's mean over the box,
// each cell weighted by the area it shares with the box (a box smaller than a cell still gets
// the cells it touches), L2-normalised; concatenated. The whole frame's box gives each map's
// global average pool, L2-normalised: what a multi-scale embedder's pooled output is.
// The box is clipped to the frame. Errors (invalid_argument): null pointers, no maps, an
// empty map, out_size other than the channels in all, a non-finite box or one empty after
// clipping. out is unspecified after an error.
result<void> pool_region(const feature_map* maps, size_t n_maps, unit_box box, float* out, size_t out_size);

// Whether a map_w x map_h feature map can be the in_w x in_h input seen at one stride (each side
// in / stride, rounded either way, as strided convolutions round). False for a map of swapped
// sides or of another input, whose boxes would land in the wrong cells.
bool map_fits_input(size_t map_w, size_t map_h, size_t in_w, size_t in_h);

// ---- catalog adaptation: regularised linear discriminant analysis ----

struct lda_options {
  size_t out_dim = 80;         // capped at (classes - 1), d and the rank of the between-class scatter
  double within_reg = 0.1;     // Sw += within_reg * mean_eigenvalue(Sw) * I; >= 0
  bool power_normalize = true; // power-normalise (power_alpha) then L2-normalise rows before fitting
  float power_alpha = 0.5f;    // in (0, 1]
};

// Optional diagnostics filled by lda_train.
struct lda_info {
  size_t classes = 0;                 // distinct labels
  size_t out_dim = 0;                 // dimensions actually produced
  double mean_within_eigenvalue = 0;  // trace(Sw) / d before regularisation
  std::vector<double> eigenvalues;    // generalised eigenvalues (between / within) of the kept directions, decreasing
};

// Learns y = W (x - mean), W out_dim x d, from labelled rows:
//   Sw = (1/n) sum_i (x_i - mu_{c(i)})(x_i - mu_{c(i)})^T + within_reg * (trace(Sw)/d) * I
//   Sb = (1/n) sum_c n_c (mu_c - mu)(mu_c - mu)^T
// Rows of W are the generalised eigenvectors (Sb w = lambda Sw w) with the largest
// lambda, scaled so that w^T Sw w = 1 (unit regularised within-class variance per output
// dimension), sign fixed so each row's largest-magnitude component is positive.
// Solved by whitening: Sw = L L^T (Cholesky, the whitening factor L^{-1}), the whitened
// between-class scatter L^{-1} Sb L^{-T} = B B^T (B = L^{-1} M^T, M = class means, one
// row per class) is eigen-decomposed through its small (classes x classes) Gram matrix
// by Householder tridiagonalisation + implicit QL, then w = L^{-T} v. O(n d^2 + d^3/3).
// With power_normalize the mean and W refer to power- and L2-normalised inputs: apply
// the same two steps to queries before `apply`.
// Errors (invalid_argument): null pointers, n_labels != n, d == 0, out_dim == 0, fewer
// than 2 classes, non-finite values, bad options, within-class scatter singular (e.g.
// within_reg == 0 with fewer rows than dimensions, or every class a single row).
result<linear_transform> lda_train(const float* features, size_t n, size_t d, const uint32_t* labels,
                                   size_t n_labels, const lda_options& opt = {}, lda_info* info = nullptr);

// ---- evaluation on a held-out split (the caller makes the split) ----

struct retrieval_metrics {
  double recall_at_1 = 0, recall_at_5 = 0, recall_at_k = 0;  // fractions of all queries
  size_t k = 5;
  size_t queries = 0;
  size_t queries_without_class = 0;  // query labels absent from the gallery (always misses)
  size_t gallery_classes = 0;
};

// Cosine similarity (rows are L2-normalised internally; inputs are not modified). A
// class's score is its best-matching gallery row; classes are ranked by score (ties:
// smaller label first); recall@r = fraction of queries whose class ranks within the top r.
// Errors: null pointers, d == 0, k == 0, empty gallery, non-finite values.
result<retrieval_metrics> evaluate_retrieval(const float* queries, const uint32_t* query_labels, size_t n_queries,
                                             const float* gallery, const uint32_t* gallery_labels,
                                             size_t n_gallery, size_t d, size_t k = 5);

// ---- should the catalog be adapted? ----

struct adaptation_trial {
  retrieval_metrics raw;      // held-out image -> the other images, raw features (cosine)
  retrieval_metrics adapted;  // the same after power/L2 normalisation and the learned LDA
  size_t train_rows = 0, held_out_rows = 0;
};

// Holds out the last third of the rows of every label that has at least 3 rows (a block:
// consecutive photos are near-duplicates), learns lda_train(opt) on the rest and measures
// held-out retrieval both ways. The build adapts unless adapted.recall_at_1 is lower. Errors: fewer than 2 held-out rows, and
// lda_train's and evaluate_retrieval's errors.
result<adaptation_trial> trial_adaptation(const float* features, size_t n, size_t d, const uint32_t* labels,
                                          const lda_options& opt = {});

}  // namespace sf::embed
