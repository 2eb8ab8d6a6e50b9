// Predictors: previous frame, Lorenzo in space (2-D) and space-time (3-D), or none. They read the
// reconstructed values of the current and previous frame (closed loop), so encoder and decoder agree.
// Operands are combined in a fixed order: with -ffp-contract=off the result is the same on every machine.
// At frame, row and column edges the missing neighbours drop out (Lorenzo of lower dimension).
#pragma once
#include <cstddef>

#include "tezip/codec.h"

namespace tezip {

struct Neighbours {
  size_t chans;   // distance to the west neighbour
  size_t rowLen;  // distance to the north neighbour
  bool w, n, p;   // which exist
};

template <class A>
inline A lorenzo2(const A* c, size_t j, const Neighbours& nb) {
  if (nb.w && nb.n) return c[j - nb.chans] + c[j - nb.rowLen] - c[j - nb.rowLen - nb.chans];
  if (nb.w) return c[j - nb.chans];
  if (nb.n) return c[j - nb.rowLen];
  return A(0);
}

template <class A>
inline A predict(Predictor k, const A* cur, const A* prev, size_t j, const Neighbours& nb) {
  switch (k) {
    case Predictor::None:
      return A(0);
    case Predictor::Prev:
      return nb.p ? prev[j] : lorenzo2(cur, j, nb);
    case Predictor::Lorenzo2D:
      return lorenzo2(cur, j, nb);
    case Predictor::Lorenzo3D:
    default: {
      if (!nb.p) return lorenzo2(cur, j, nb);
      const size_t w = nb.chans, n = nb.rowLen;
      if (nb.w && nb.n)
        return cur[j - w] + cur[j - n] + prev[j] - cur[j - n - w] - prev[j - w] - prev[j - n] + prev[j - n - w];
      if (nb.w) return cur[j - w] + prev[j] - prev[j - w];
      if (nb.n) return cur[j - n] + prev[j] - prev[j - n];
      return prev[j];
    }
  }
}

}  // namespace tezip
