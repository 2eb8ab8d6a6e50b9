// Lossless coding: values become unsigned integers q (floats by an order-preserving map of their bits,
// signed integers by offset binary), shifted by the chunk minimum and divided by the greatest common
// divisor of the differences (data on a coarser grid than its type, such as 12-bit detectors stored in
// uint16 or GRIB fields stored in float32, shrink to their real alphabet). Prediction and residuals wrap
// modulo 2^bits (predict/residuals.h), so every bit pattern, NaN payloads and -0.0 included, comes back exactly.
#pragma once
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "../entropy/tokens.h"

namespace tezip {

template <class T>
struct OrderedBits {
  using U = std::conditional_t<sizeof(T) == 1, uint8_t,
            std::conditional_t<sizeof(T) == 2, uint16_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
  static constexpr U kSign = U(U(1) << (8 * sizeof(T) - 1));
  static uint64_t to(T x) {
    U b;
    std::memcpy(&b, &x, sizeof(T));
    if constexpr (std::is_floating_point<T>::value) return (b & kSign) ? U(~b) : U(b | kSign);
    else if constexpr (std::is_signed<T>::value) return U(b ^ kSign);
    else return b;
  }
  static T from(uint64_t q) {
    U b = U(q);
    if constexpr (std::is_floating_point<T>::value) b = (b & kSign) ? U(b & ~kSign) : U(~b);
    else if constexpr (std::is_signed<T>::value) b = U(b ^ kSign);
    T x;
    std::memcpy(&x, &b, sizeof(T));
    return x;
  }
};

struct LosslessParams {
  uint64_t minQ = 0, step = 1;
  uint8_t bits = 1;
  uint64_t mask() const { return bits >= 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1; }
};

template <class T>
LosslessParams losslessParams(const T* x, size_t n) {
  LosslessParams p;
  if (!n) return p;
  uint64_t mn = ~uint64_t(0), mx = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t q = OrderedBits<T>::to(x[i]);
    mn = q < mn ? q : mn;
    mx = q > mx ? q : mx;
  }
  // gcd of all q − mn: its power of two from the OR of the differences (one cheap pass), the odd part by
  // Euclid only for values it does not already divide (on real data the odd part falls to 1 within a few
  // values, and a power-of-two grid such as GRIB's never needs a division).
  uint64_t any = 0;
  for (size_t i = 0; i < n; i++) any |= OrderedBits<T>::to(x[i]) - mn;
  uint64_t g = 1;
  if (any) {
    const unsigned tz = unsigned(__builtin_ctzll(any));
    uint64_t odd = 0;
    for (size_t i = 0; i < n && odd != 1; i++) {
      const uint64_t d = (OrderedBits<T>::to(x[i]) - mn) >> tz;
      if (odd == 0 || d % odd != 0) odd = std::gcd(odd, d);
    }
    g = (odd ? odd : 1) << tz;
  }
  const uint64_t k = (mx - mn) / g;
  p.minQ = mn;
  p.step = g;
  p.bits = uint8_t(k ? 64 - __builtin_clzll(k) : 1);
  return p;
}

}  // namespace tezip
