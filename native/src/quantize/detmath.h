// Deterministic exp2/log2 made of + - * / only (plus exact frexp/ldexp/floor): the decoder recomputes
// these, so they must give the same bits on every machine, which libm does not promise.
#pragma once
#include <cmath>

namespace tezip {

// 1/k, correctly rounded (IEEE division is exact-rounded, so this table is the same everywhere).
struct InverseTable {
  double v[32];
  InverseTable() {
    for (int k = 1; k < 32; k++) v[k] = 1.0 / double(k);
  }
};
inline const InverseTable& inverses() {
  static const InverseTable t;
  return t;
}

inline double exp2Det(double l) {
  if (!(l < 1100.0)) return l != l ? l : HUGE_VAL;
  if (l < -1200.0) return 0.0;
  const double n = std::floor(l + 0.5);
  const double z = (l - n) * 0.69314718055994530942;  // |z| <= 0.347: 13 Taylor terms reach 2^-56
  const double* inv = inverses().v;
  double s = 1.0;
  for (int k = 13; k >= 1; k--) s = 1.0 + (s * z) * inv[k];
  return std::ldexp(s, int(n));
}

inline double log2Det(double a) {  // a > 0, finite
  int e;
  double m = std::frexp(a, &e) * 2.0;  // [1, 2)
  e -= 1;
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;  // |s| <= 0.1716
  double acc = 0.0;
  const double* inv = inverses().v;
  for (int k = 27; k >= 1; k -= 2) acc = inv[k] + s2 * acc;
  return double(e) + 2.0 * s * acc * 1.44269504088896340736;
}

}  // namespace tezip
