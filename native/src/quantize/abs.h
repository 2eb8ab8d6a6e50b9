// Absolute-error quantizers (abs; rel and absrel arrive here as an absolute bound). Closed loop: the
// reconstructed value, not the original, feeds the next prediction.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

#include "../entropy/tokens.h"

namespace tezip {

// Integers: bins of width 2e+1 centred on the prediction, then clamped to the type's range (clamping only
// moves the value towards the original, so |x̂ - x| <= e still holds). Never escapes.
template <class T>
struct AbsIntQuantizer {
  using A = int64_t;
  int64_t e, w;
  static constexpr int64_t lo = int64_t(std::numeric_limits<T>::min());
  static constexpr int64_t hi = int64_t(std::numeric_limits<T>::max());
  static constexpr unsigned sideBits = 0;
  uint64_t side = 0;
  explicit AbsIntQuantizer(int64_t bound) : e(bound), w(2 * bound + 1) {}
  static int64_t clamp(int64_t v) { return v < lo ? lo : v > hi ? hi : v; }
  bool encode(T x, A p, A& recon, uint64_t& v) {
    const int64_t d = int64_t(x) - p + e;
    const int64_t code = d >= 0 ? d / w : -((-d + w - 1) / w);
    recon = clamp(p + code * w);
    v = zigzag(code);
    return true;
  }
  T decode(uint64_t v, A p, A& recon, BitReader&) {
    const uint64_t raw = uint64_t(p) + uint64_t(unzigzag(v)) * uint64_t(w);  // wraps on corrupt input
    int64_t r = int64_t(raw);
    // guard against wrap-around from a corrupt code: stay within the type's range either way
    recon = clamp(r);
    return T(recon);
  }
  T decodeEscape(T x, A, A& recon) {
    recon = int64_t(x);
    return x;
  }
};

// Floats: bins of width 2·eb around the prediction, computed in double. A value whose reconstruction
// misses the bound after rounding to T, or that is NaN/±Inf, is stored raw (escape).
template <class T>
struct AbsFloatQuantizer {
  using A = double;
  double eb, bin;
  static constexpr unsigned sideBits = 0;
  uint64_t side = 0;
  // bins a little narrower than 2·eb, so values exactly half a bin away (common on gridded data) still
  // round inside the bound; the decoder only needs `bin`.
  AbsFloatQuantizer(double bound, double b) : eb(bound), bin(b), inv(1.0 / b) {}
  double inv;
  static double binFor(double eb) { return 2.0 * eb * (1.0 - 1.0 / 1024); }
  static double safe(double p) { return std::isfinite(p) ? p : 0.0; }
  bool encode(T x, A p, A& recon, uint64_t& v) {
    p = safe(p);
    const double q = (double(x) - p) * inv;
    if (std::isfinite(q) && std::fabs(q) < 4.0e15) {
      // nearest code, inline (llround is a libm call); a rare off-by-one at a tie is caught by the check below
      const int64_t code = int64_t(q + std::copysign(0.5, q));
      const T r = T(p + double(code) * bin);
      if (std::isfinite(r) && std::fabs(double(r) - double(x)) <= eb) {
        recon = double(r);
        v = zigzag(code);
        return true;
      }
    }
    recon = double(x);
    return false;
  }
  T decode(uint64_t v, A p, A& recon, BitReader&) {
    const T r = T(safe(p) + double(unzigzag(v)) * bin);
    recon = double(r);
    return r;
  }
  T decodeEscape(T x, A, A& recon) {
    recon = double(x);
    return x;
  }
};

}  // namespace tezip
