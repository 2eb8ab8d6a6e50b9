#include <algorithm>
#include <cstring>
#include <limits>

#include "cpu.h"
#include "tezip/codec.h"

namespace tezip {
namespace {

// Integers: plain min/max, which vectorises.
template <class T>
__attribute__((always_inline)) inline bool intRange(const T* p, uint64_t n, double* mn, double* mx) {
  T lo = std::numeric_limits<T>::max(), hi = std::numeric_limits<T>::lowest();
  for (uint64_t i = 0; i < n; i++) {
    lo = p[i] < lo ? p[i] : lo;
    hi = p[i] > hi ? p[i] : hi;
  }
  *mn = double(lo);
  *mx = double(hi);
  return n > 0;
}

// Floats: min/max of the finite values through integer keys that order like the values (IEEE min/max do not
// vectorise without fast-math's assumptions); NaN and ±Inf take the keys that never win. −0 and +0 share a
// key, and a zero minimum (or maximum) keeps the sign of the first zero in the data, as a scan comparing with
// `<` would.
template <class F, class I>
__attribute__((always_inline)) inline bool floatRange(const F* p, uint64_t n, double* mn, double* mx) {
  constexpr int bits = int(8 * sizeof(I));
  I inf;
  const F infv = std::numeric_limits<F>::infinity();
  std::memcpy(&inf, &infv, sizeof(I));  // the exponent field, all ones
  const I magMask = std::numeric_limits<I>::max();
  I lo = std::numeric_limits<I>::max(), hi = std::numeric_limits<I>::lowest();
  for (uint64_t i = 0; i < n; i++) {
    I b;
    std::memcpy(&b, p + i, sizeof(I));
    const bool finite = (b & inf) != inf;
    const I sign = b >> (bits - 1);                 // 0 or −1
    const I key = (b ^ (sign & magMask)) - sign;     // two's complement order; −0 and +0 both 0
    const I m = I(0) - I(finite);  // all ones for a finite value: masks, since selects here do not vectorise
    const I kl = (key & m) | (std::numeric_limits<I>::max() & ~m);
    const I kh = (key & m) | (std::numeric_limits<I>::lowest() & ~m);
    lo = std::min(lo, kl);
    hi = std::max(hi, kh);
  }
  if (lo > hi) return false;  // no finite value
  double firstZero = 0;
  if (lo == 0 || hi == 0)
    for (uint64_t i = 0; i < n; i++)
      if (p[i] == 0) {
        firstZero = double(p[i]);
        break;
      }
  auto back = [&](I key) {
    if (key == 0) return firstZero;
    const I k = key < 0 ? key - 1 : key;  // undo the shift that joined −0 to +0
    const I b = k ^ ((k >> (bits - 1)) & magMask);
    F v;
    std::memcpy(&v, &b, sizeof(F));
    return double(v);
  };
  *mn = back(lo);
  *mx = back(hi);
  return true;
}

TEZIP_CLONES bool rangeU8(const uint8_t* p, uint64_t n, double* mn, double* mx) { return intRange(p, n, mn, mx); }
TEZIP_CLONES bool rangeU16(const uint16_t* p, uint64_t n, double* mn, double* mx) { return intRange(p, n, mn, mx); }
TEZIP_CLONES bool rangeI16(const int16_t* p, uint64_t n, double* mn, double* mx) { return intRange(p, n, mn, mx); }
TEZIP_CLONES bool rangeI32(const int32_t* p, uint64_t n, double* mn, double* mx) { return intRange(p, n, mn, mx); }
TEZIP_CLONES bool rangeF32(const float* p, uint64_t n, double* mn, double* mx) {
  return floatRange<float, int32_t>(p, n, mn, mx);
}
TEZIP_CLONES bool rangeF64(const double* p, uint64_t n, double* mn, double* mx) {
  return floatRange<double, int64_t>(p, n, mn, mx);
}

}  // namespace

bool valueRange(const void* d, DType t, uint64_t n, double* mn, double* mx) {
  switch (t) {
    case DType::U8: return rangeU8(static_cast<const uint8_t*>(d), n, mn, mx);
    case DType::U16: return rangeU16(static_cast<const uint16_t*>(d), n, mn, mx);
    case DType::I16: return rangeI16(static_cast<const int16_t*>(d), n, mn, mx);
    case DType::I32: return rangeI32(static_cast<const int32_t*>(d), n, mn, mx);
    case DType::F32: return rangeF32(static_cast<const float*>(d), n, mn, mx);
    case DType::F64: return rangeF64(static_cast<const double*>(d), n, mn, mx);
  }
  throw Error(ErrorCode::InvalidArgument, "unknown dtype");
}

}  // namespace tezip
