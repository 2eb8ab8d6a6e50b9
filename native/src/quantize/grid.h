// Absolute bound on floats by pre-quantization onto a grid: each value is rounded on its own to k·bin (bin just
// under 2·eb, as for the closed loop in abs.h), and the integers k are then coded losslessly, like the lossless
// path, with whole-array finite differences (predict/residuals.h). Nothing waits for the previous value's
// reconstruction, so quantization, prediction and their inverses all vectorise, where the closed loop is one
// long chain of dependent floating-point operations. The integers' Lorenzo residual carries the rounding of
// every neighbour, so this codes a little larger on smooth fields; the encoder measures both.
// Values the grid cannot hold within the bound (NaN, ±Inf, too large, or outside the bound once rounded to T)
// are escapes: stored raw, with their positions, and patched in after decoding.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "lossless.h"

namespace tezip {

constexpr double kGridMaxK = 0x1p50;  // |k| below this: k, minK + (k − minK) and k·bin stay exact in binary64

struct GridParams {
  double bin = 0;
  int64_t minK = 0;
  uint8_t bits = 1;  // k − minK < 2^bits, bits <= 32
};

// A bin for bound eb on values up to maxAbs in magnitude: just under 2·eb, less the rounding of the result to
// T (half an ulp at maxAbs), so that values half a bin away still land inside the bound once stored as T.
template <class T>
double gridBin(double eb, double maxAbs) {
  int e = 0;
  std::frexp(maxAbs, &e);  // maxAbs < 2^e
  const double halfUlp = std::ldexp(1.0, e - std::numeric_limits<T>::digits - 1);
  const double room = eb - halfUlp;
  return 2.0 * (room > 0.5 * eb ? room : 0.5 * eb) * (1.0 - 1.0 / 1024);
}

// The value a grid point decodes to; encoder and decoder both use exactly this.
template <class T>
inline T gridValue(int64_t minK, uint64_t u, double bin) {
  return T((double(minK) + double(u)) * bin);
}

// Fills u[i] = k_i − minK for every element (an escape repeats the element before it) and lists the
// escapes' indices. False when the grid does not fit (no value on it, or a spread of
// 2^32 or more). Written as branch-free passes that vectorise: k is rounded with the 1.5·2^52 trick, kept
// as a binary64 integer, and k − minK taken from the low bits of (k − minK) + 2^52.
template <class T>
__attribute__((always_inline)) inline bool gridQuantizeImpl(const T* x, size_t n, double eb, GridParams& p,
                                                            std::vector<typename OrderedBits<T>::U>& u,
                                                            std::vector<uint64_t>& escapes) {
  using U = typename OrderedBits<T>::U;
  const double inv = 1.0 / p.bin, bin = p.bin, magic = 0x1.8p52;
  // k_i (round to nearest, ties to even) and whether the grid holds x_i within the bound. Written without
  // branches (selects and bitwise ands) so that the loops below vectorise.
  auto point = [=](T xi, double& kr) __attribute__((always_inline)) {
    const double q = double(xi) * inv;
    // |q| < 2^50 − 1, so that |k| < 2^50 after rounding (the bound a reader checks minK against); false for
    // NaN and ±Inf
    const bool inRange = std::fabs(q) < kGridMaxK - 1;
    const double kq = (q + magic) - magic;
    kr = inRange ? kq : 0.0;
    const T r = T(kr * bin);  // = gridValue(minK, k − minK, bin): both sums are exact
    return inRange & (std::fabs(double(r) - double(xi)) <= eb);  // false for r = ±Inf
  };
  // The range of the k in integers (min/max of doubles do not vectorise under IEEE rules): |k| < 2^50, so
  // k + 1.5·2^52 holds k in its low bits.
  constexpr int64_t kMaxK = int64_t(1) << 50, kMagicBits = 0x4338000000000000;
  int64_t lo = kMaxK, hi = -kMaxK, nbad = 0;
  constexpr size_t kBlock = 512;
  int64_t kl[kBlock], kh[kBlock];  // per block: k, or ±2^50 where the grid misses (counted bad: |k| < 2^50)
  for (size_t b0 = 0; b0 < n; b0 += kBlock) {
    const size_t m = std::min(kBlock, n - b0);
    for (size_t i = 0; i < m; i++) {
      double kr;
      const bool ok = point(x[b0 + i], kr);
      const double b = kr + magic;
      int64_t ki;
      std::memcpy(&ki, &b, 8);
      ki -= kMagicBits;
      kl[i] = ok ? ki : kMaxK;
      kh[i] = ok ? ki : -kMaxK;
    }
    for (size_t i = 0; i < m; i++) {
      lo = std::min(lo, kl[i]);
      hi = std::max(hi, kh[i]);
      nbad += int64_t(kl[i] == kMaxK);
    }
  }
  const size_t bad = size_t(nbad);
  if (lo > hi || hi - lo >= (int64_t(1) << 32)) return false;
  p.minK = lo;
  const uint64_t span = uint64_t(hi - lo);
  p.bits = uint8_t(span ? 64 - __builtin_clzll(span) : 1);
  u.resize(n);
  const double base = 0x1p52 - double(lo);  // exact: |lo| < 2^50
  U* const uo = u.data();
  for (size_t i = 0; i < n; i++) {
    double kr;
    const bool ok = point(x[i], kr);
    const double b = kr + base;  // 2^52 + (k − minK), exact
    uint64_t bits;
    std::memcpy(&bits, &b, 8);
    uo[i] = ok ? U(uint32_t(bits)) : U(0);
  }
  escapes.clear();
  if (bad) {
    escapes.reserve(bad);
    for (size_t i = 0; i < n; i++) {
      double kr;
      if (!point(x[i], kr)) {
        escapes.push_back(i);
        u[i] = i ? u[i - 1] : U(0);  // the value before it: an isolated escape costs no large residual
      }
    }
  }
  return true;
}

// The same, compiled for AVX2 and for the baseline, picked at run time (grid.cc).
bool gridQuantize(const float* x, size_t n, double eb, GridParams& p, std::vector<uint32_t>& u,
                  std::vector<uint64_t>& escapes);
bool gridQuantize(const double* x, size_t n, double eb, GridParams& p, std::vector<uint64_t>& u,
                  std::vector<uint64_t>& escapes);

}  // namespace tezip
