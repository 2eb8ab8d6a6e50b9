// Shared by the round-trip fuzz targets: the first element a decoded array gets outside the requested bound
// (lossless and non-finite values: bit-exact; abs: |y - x| <= eb; pwrel: |y - x| <= eps |x|), or n if none.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tezip/codec.h"

namespace tezip_fuzz {

template <class T>
size_t firstViolation(const uint8_t* a, const uint8_t* b, size_t n, tezip::Mode mode, double eb, double eps) {
  for (size_t i = 0; i < n; i++) {
    T x, y;
    std::memcpy(&x, a + i * sizeof(T), sizeof(T));
    std::memcpy(&y, b + i * sizeof(T), sizeof(T));
    const double dx = double(x), dy = double(y);
    if (mode == tezip::Mode::Lossless || !std::isfinite(dx)) {
      if (std::memcmp(&x, &y, sizeof(T)) != 0) return i;
      continue;
    }
    const double lim = mode == tezip::Mode::Abs ? eb : eps * std::fabs(dx);
    if (!(std::fabs(dy - dx) <= lim)) return i;
  }
  return n;
}

inline size_t violation(tezip::DType dt, const uint8_t* a, const uint8_t* b, size_t n, tezip::Mode m, double eb,
                        double eps) {
  using tezip::DType;
  switch (dt) {
    case DType::U8: return firstViolation<uint8_t>(a, b, n, m, eb, eps);
    case DType::U16: return firstViolation<uint16_t>(a, b, n, m, eb, eps);
    case DType::I16: return firstViolation<int16_t>(a, b, n, m, eb, eps);
    case DType::I32: return firstViolation<int32_t>(a, b, n, m, eb, eps);
    case DType::F32: return firstViolation<float>(a, b, n, m, eb, eps);
    case DType::F64: return firstViolation<double>(a, b, n, m, eb, eps);
  }
  return 0;
}

}  // namespace tezip_fuzz
