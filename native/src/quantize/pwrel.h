// Point-wise relative quantizer: |x̂ - x| <= eps·|x| for every element. Quantizes log2|x| with bins of
// width `bin` (chosen by the encoder a little under 2·log2(1+eps)), closed loop in the log domain, and
// checks every reconstruction exactly; zeros, NaN, ±Inf and any value that misses the bound are stored raw.
// Signs: one bit per coded value unless the whole chunk has one sign.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../entropy/tokens.h"
#include "detmath.h"

namespace tezip {

enum class SignMode : uint8_t { Positive = 0, Negative = 1, Mixed = 2 };

template <class T>
struct PwRelQuantizer {
  using A = double;
  double eps, bin;
  SignMode signs;
  unsigned sideBits;
  uint64_t side = 0;
  PwRelQuantizer(double e, double b, SignMode s)
      : eps(e * (1.0 - 0x1p-50)), bin(b), signs(s), sideBits(s == SignMode::Mixed ? 1 : 0) {}

  static double binFor(double eps) { return 2.0 * std::log2(1.0 + eps) * 0.999; }

  static T value(double mag, bool negative) {
    if constexpr (std::is_floating_point<T>::value) {
      const T m = T(mag);
      return negative ? T(-m) : m;
    } else {
      double r = std::nearbyint(mag);
      const double hi = double(std::numeric_limits<T>::max()), lo = double(std::numeric_limits<T>::min());
      double s = negative ? -r : r;
      s = s < lo ? lo : s > hi ? hi : s;
      return T(s);
    }
  }
  static double safe(double p) { return std::isfinite(p) ? p : 0.0; }

  bool encode(T x, A p, A& recon, uint64_t& v) {
    p = safe(p);
    const double dx = double(x);
    if (dx != 0.0 && std::isfinite(dx)) {
      const bool neg = dx < 0;
      const double q = (std::log2(std::fabs(dx)) - p) / bin;
      if (std::fabs(q) < 4.0e15) {
        const int64_t code = std::llround(q);
        const double l = p + double(code) * bin;
        const T r = value(exp2Det(l), neg);
        if (std::isfinite(double(r)) && std::fabs(double(r) - dx) <= eps * std::fabs(dx)) {
          recon = l;
          v = zigzag(code);
          side = neg ? 1 : 0;
          return true;
        }
      }
    }
    recon = escapedRecon(x, p);
    return false;
  }
  T decode(uint64_t v, A p, A& recon, BitReader& extra) {
    const double l = safe(p) + double(unzigzag(v)) * bin;
    recon = l;
    bool neg = signs == SignMode::Negative;
    if (signs == SignMode::Mixed) neg = extra.get(1) != 0;
    return value(exp2Det(l), neg);
  }
  T decodeEscape(T x, A p, A& recon) {
    recon = escapedRecon(x, safe(p));
    return x;
  }
  static double escapedRecon(T x, double p) {
    const double a = std::fabs(double(x));
    return (a != 0.0 && std::isfinite(a)) ? log2Det(a) : p;
  }
};

template <class T>
SignMode signModeOf(const T* x, size_t n) {
  bool pos = false, neg = false;
  for (size_t i = 0; i < n; i++) {
    const double d = double(x[i]);
    if (d > 0) pos = true;
    else if (d < 0) neg = true;
  }
  return pos && neg ? SignMode::Mixed : neg ? SignMode::Negative : SignMode::Positive;
}

}  // namespace tezip
