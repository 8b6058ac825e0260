// Internal to src/embed: dense symmetric eigen-decomposition (Householder
// tridiagonalisation + implicit QL), deterministic.
#pragma once

#include <cstddef>
#include <vector>

namespace sf::embed::detail {

// A: n x n symmetric, row-major (taken by value, consumed). On success values holds the
// n eigenvalues in decreasing order and vectors (n x n, row-major) the matching unit
// eigenvectors as rows, each with its largest-magnitude component positive (first one on
// ties). False if n == 0, A has the wrong size or QL does not converge.
bool sym_eigen(std::vector<double> A, size_t n, std::vector<double>& values, std::vector<double>& vectors);

}  // namespace sf::embed::detail
