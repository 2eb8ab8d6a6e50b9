#include <cmath>

#include "tezip/codec.h"

namespace tezip {
namespace {
template <class T>
bool rangeOf(const T* p, uint64_t n, double* mn, double* mx) {
  bool any = false;
  T lo{}, hi{};
  for (uint64_t i = 0; i < n; i++) {
    T v = p[i];
    if constexpr (std::is_floating_point<T>::value)
      if (!std::isfinite(v)) continue;
    if (!any) {
      lo = hi = v;
      any = true;
    } else {
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
  }
  *mn = double(lo);
  *mx = double(hi);
  return any;
}
}  // namespace

bool valueRange(const void* d, DType t, uint64_t n, double* mn, double* mx) {
  switch (t) {
    case DType::U8: return rangeOf(static_cast<const uint8_t*>(d), n, mn, mx);
    case DType::U16: return rangeOf(static_cast<const uint16_t*>(d), n, mn, mx);
    case DType::I16: return rangeOf(static_cast<const int16_t*>(d), n, mn, mx);
    case DType::I32: return rangeOf(static_cast<const int32_t*>(d), n, mn, mx);
    case DType::F32: return rangeOf(static_cast<const float*>(d), n, mn, mx);
    case DType::F64: return rangeOf(static_cast<const double*>(d), n, mn, mx);
  }
  throw Error(ErrorCode::InvalidArgument, "unknown dtype");
}

}  // namespace tezip
