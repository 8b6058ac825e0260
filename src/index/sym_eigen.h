// Internal to the core (PCA in index/, LDA in embed/): dense symmetric eigen-decomposition
// (Householder tridiagonalisation + implicit QL), deterministic.
#pragma once

#include <cstddef>
#include <vector>

namespace sf::detail {

// A: n x n symmetric, row-major (taken by value, consumed). On success values holds all n
// eigenvalues in decreasing order and vectors (count x n, row-major) the unit eigenvectors
// of the largest `count` of them as rows, each with its largest-magnitude component
// positive (first one on ties); only those are back-transformed (O(n^2 count)). False if
// n == 0, count > n, A has the wrong size or QL does not converge.
bool sym_eigen(std::vector<double> A, size_t n, size_t count, std::vector<double>& values,
               std::vector<double>& vectors);

}  // namespace sf::embed::detail
