// Parsing of FAISS-factory-style quantizer strings ("pca128,ivf1024,pq32,rr:sq8").
#include <charconv>
#include <string>

#include "index/index.h"

namespace sf {
namespace {

// Parses the decimal number after `prefix` in `tok`; 0 on failure.
size_t number_after(std::string_view tok, std::string_view prefix) {
  if (tok.size() <= prefix.size() || tok.substr(0, prefix.size()) != prefix) return 0;
  std::string_view digits = tok.substr(prefix.size());
  size_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size()) return 0;
  return v;
}

error bad(std::string_view s, std::string_view why) {
  return make_error(status::parse_error, "quantizer \"" + std::string(s) + "\": " + std::string(why));
}

}  // namespace

result<quantizer_spec> parse_quantizer(std::string_view s) {
  quantizer_spec q;
  bool have_codes = false;
  // Order: transform, ivf, codes, rerank; each at most once.
  int stage = 0;
  size_t pos = 0;
  if (s.empty()) return bad(s, "empty");
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    std::string_view tok = s.substr(pos, comma - pos);
    pos = comma + 1;
    if (tok.empty()) return bad(s, "empty component");
    if (size_t n = number_after(tok, "pcaw"); n || tok.rfind("pcaw", 0) == 0) {
      if (stage > 0) return bad(s, "a transform must come first");
      if (!n) return bad(s, "'" + std::string(tok) + "' needs a positive dimension, e.g. pcaw128");
      q.transform_dim = n, q.whiten = true, stage = 1;
    } else if (size_t nl = number_after(tok, "lda"); nl || tok.rfind("lda", 0) == 0) {
      if (stage > 0) return bad(s, "a transform must come first");
      if (!nl) return bad(s, "'" + std::string(tok) + "' needs a positive dimension, e.g. lda64");
      q.transform_dim = nl, q.external_transform = true, stage = 1;
    } else if (size_t n2 = number_after(tok, "pca"); n2 || tok.rfind("pca", 0) == 0) {
      if (stage > 0) return bad(s, "a transform must come first");
      if (!n2) return bad(s, "'" + std::string(tok) + "' needs a positive dimension, e.g. pca128");
      q.transform_dim = n2, stage = 1;
    } else if (tok.rfind("ivf", 0) == 0) {
      size_t n = number_after(tok, "ivf");
      if (stage > 1) return bad(s, "ivf must come before the codes");
      if (n < 1 || n > 65536) return bad(s, "'" + std::string(tok) + "' needs 1..65536 lists, e.g. ivf256");
      q.ivf_lists = n, stage = 2;
    } else if (tok == "flat" || tok == "sq8" || tok.rfind("pq", 0) == 0) {
      if (stage > 2) return bad(s, "codes given twice");
      if (tok == "flat") {
        q.codes = quantizer_spec::code_kind::flat;
      } else if (tok == "sq8") {
        q.codes = quantizer_spec::code_kind::sq8;
      } else {
        size_t m = number_after(tok, "pq");
        if (m < 1 || m > 4096) return bad(s, "'" + std::string(tok) + "' needs 1..4096 sub-quantizers, e.g. pq32");
        q.codes = quantizer_spec::code_kind::pq, q.pq_m = m;
      }
      have_codes = true, stage = 3;
    } else if (tok == "rr:flat" || tok == "rr:sq8") {
      if (!have_codes) return bad(s, "re-ranking needs first-stage codes before it");
      if (stage > 3) return bad(s, "re-ranking given twice");
      q.rerank = tok == "rr:flat" ? quantizer_spec::rerank_kind::flat : quantizer_spec::rerank_kind::sq8;
      stage = 4;
    } else {
      return bad(s, "unknown component '" + std::string(tok) +
                        "' (expected pcaN, pcawN, ldaN, ivfN, flat, sq8, pqM, rr:flat, rr:sq8)");
    }
    if (comma == s.size()) break;
  }
  if (!have_codes) return bad(s, "no codes (flat, sq8 or pqM)");
  if (q.rerank == quantizer_spec::rerank_kind::flat && q.codes == quantizer_spec::code_kind::flat)
    return bad(s, "re-ranking flat codes with flat codes does nothing");
  if (q.rerank == quantizer_spec::rerank_kind::sq8 && q.codes != quantizer_spec::code_kind::pq)
    return bad(s, "rr:sq8 only refines pq codes");
  return q;
}

std::string quantizer_spec::canonical() const {
  std::string s;
  if (transform_dim) s += (external_transform ? "lda" : whiten ? "pcaw" : "pca") + std::to_string(transform_dim) + ",";
  if (ivf_lists) s += "ivf" + std::to_string(ivf_lists) + ",";
  switch (codes) {
    case code_kind::flat: s += "flat"; break;
    case code_kind::sq8: s += "sq8"; break;
    case code_kind::pq: s += "pq" + std::to_string(pq_m); break;
  }
  if (rerank == rerank_kind::flat) s += ",rr:flat";
  if (rerank == rerank_kind::sq8) s += ",rr:sq8";
  return s;
}

}  // namespace sf
