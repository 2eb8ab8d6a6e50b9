// Predictors: previous frame, Lorenzo in space (2-D) and space-time (3-D), or none. They read the
// reconstructed values of the current and previous frame (closed loop), so encoder and decoder agree.
// Operands are combined in a fixed order: with -ffp-contract=off the result is the same on every machine.
// At frame, row and column edges the missing neighbours count as zero, which makes each Lorenzo predictor
// an exact finite difference (Δx, ΔyΔx, ΔtΔyΔx) — the lossless path (residuals.h) relies on that.
#pragma once
#include <cstddef>

#include "tezip/codec.h"

namespace tezip {

// W, N, P: whether the west, north and previous-frame neighbours exist (known per row, so the row loops
// are instantiated for each combination and the inner loop has no branches).
template <Predictor PK, bool W, bool N, bool P, class A>
inline A predict(const A* cur, const A* prev, size_t j, size_t c, size_t n) {
  const A z = A(0);
  if constexpr (PK == Predictor::None) {
    return z;
  } else if constexpr (PK == Predictor::Prev) {
    if constexpr (P) return prev[j];
    else return predict<Predictor::Lorenzo2D, W, N, P>(cur, prev, j, c, n);
  } else if constexpr (PK == Predictor::Lorenzo2D) {
    const A w = W ? cur[j - c] : z;
    const A no = N ? cur[j - n] : z;
    const A nw = (W && N) ? cur[j - n - c] : z;
    return w + no - nw;
  } else {
    const A w = W ? cur[j - c] : z;
    const A no = N ? cur[j - n] : z;
    const A nw = (W && N) ? cur[j - n - c] : z;
    if constexpr (!P) {
      return w + no - nw;
    } else {
      const A p = prev[j];
      const A pw = W ? prev[j - c] : z;
      const A pn = N ? prev[j - n] : z;
      const A pnw = (W && N) ? prev[j - n - c] : z;
      return w + no + p - nw - pw - pn + pnw;
    }
  }
}

}  // namespace tezip
