// Lossless fast path: with exact reconstruction the prediction residual is a finite difference of the data
// (Δt for previous-frame, ΔyΔx for 2-D Lorenzo, ΔtΔyΔx for 3-D Lorenzo, zero outside the chunk), computed
// modulo 2^width in whole rows and frames, and inverted by prefix sums. These loops vectorise; the build
// makes SSE2 and AVX2 clones and the CPU picks one at run time.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tezip/codec.h"

namespace tezip {

struct Layout {
  size_t frames, rows, rowLen, chans;
};

// In place: k (values, unsigned, wrapping) -> residuals of predictor pk.
void forwardResiduals(uint8_t* k, const Layout& l, Predictor pk);
void forwardResiduals(uint16_t* k, const Layout& l, Predictor pk);
void forwardResiduals(uint32_t* k, const Layout& l, Predictor pk);
void forwardResiduals(uint64_t* k, const Layout& l, Predictor pk);
// In place: residuals -> values.
void inverseResiduals(uint8_t* r, const Layout& l, Predictor pk);
void inverseResiduals(uint16_t* r, const Layout& l, Predictor pk);
void inverseResiduals(uint32_t* r, const Layout& l, Predictor pk);
void inverseResiduals(uint64_t* r, const Layout& l, Predictor pk);

}  // namespace tezip
