#include "residuals.h"

#include "../core/cpu.h"

namespace tezip {
namespace {

// Differences run from the end backwards so each reads the not-yet-differenced neighbour.
template <class U>
inline void diffX(U* f, const Layout& l) {
  for (size_t y = 0; y < l.rows; y++) {
    U* r = f + y * l.rowLen;
    for (size_t j = l.rowLen; j-- > l.chans;) r[j] = U(r[j] - r[j - l.chans]);
  }
}
template <class U>
inline void diffY(U* f, const Layout& l) {
  for (size_t y = l.rows; y-- > 1;) {
    U* r = f + y * l.rowLen;
    const U* q = r - l.rowLen;
    for (size_t j = 0; j < l.rowLen; j++) r[j] = U(r[j] - q[j]);
  }
}
template <class U>
inline void diffT(U* k, const Layout& l) {
  const size_t fl = l.rows * l.rowLen;
  for (size_t t = l.frames; t-- > 1;) {
    U* r = k + t * fl;
    const U* q = r - fl;
    for (size_t j = 0; j < fl; j++) r[j] = U(r[j] - q[j]);
  }
}
template <class U>
inline void sumX(U* f, const Layout& l) {
  for (size_t y = 0; y < l.rows; y++) {
    U* r = f + y * l.rowLen;
    if (l.chans == 1) {  // running sum in a register: no store-to-load round trip per element
      U acc = r[0];
      for (size_t j = 1; j < l.rowLen; j++) r[j] = acc = U(acc + r[j]);
    } else {
      for (size_t j = l.chans; j < l.rowLen; j++) r[j] = U(r[j] + r[j - l.chans]);
    }
  }
}
template <class U>
inline void sumY(U* f, const Layout& l) {
  for (size_t y = 1; y < l.rows; y++) {
    U* r = f + y * l.rowLen;
    const U* q = r - l.rowLen;
    for (size_t j = 0; j < l.rowLen; j++) r[j] = U(r[j] + q[j]);
  }
}
template <class U>
inline void sumT(U* k, const Layout& l) {
  const size_t fl = l.rows * l.rowLen;
  for (size_t t = 1; t < l.frames; t++) {
    U* r = k + t * fl;
    const U* q = r - fl;
    for (size_t j = 0; j < fl; j++) r[j] = U(r[j] + q[j]);
  }
}

template <class U>
inline void forward(U* k, const Layout& l, Predictor pk) {
  const size_t fl = l.rows * l.rowLen;
  switch (pk) {
    case Predictor::None: return;
    case Predictor::Prev:  // frame 0 falls back to 2-D Lorenzo
      diffT(k, l);
      diffX(k, l);
      diffY(k, l);  // diffX/diffY act on the first frame only (f = k)
      return;
    case Predictor::Lorenzo2D:
      for (size_t t = 0; t < l.frames; t++) {
        diffX(k + t * fl, l);
        diffY(k + t * fl, l);
      }
      return;
    default:
      for (size_t t = 0; t < l.frames; t++) {
        diffX(k + t * fl, l);
        diffY(k + t * fl, l);
      }
      diffT(k, l);
      return;
  }
}

template <class U>
inline void inverse(U* r, const Layout& l, Predictor pk) {
  const size_t fl = l.rows * l.rowLen;
  switch (pk) {
    case Predictor::None: return;
    case Predictor::Prev:
      sumY(r, l);
      sumX(r, l);
      sumT(r, l);  // sumX/sumY above act on the first frame only
      return;
    case Predictor::Lorenzo2D:
      for (size_t t = 0; t < l.frames; t++) {
        sumY(r + t * fl, l);
        sumX(r + t * fl, l);
      }
      return;
    default:
      sumT(r, l);
      for (size_t t = 0; t < l.frames; t++) {
        sumY(r + t * fl, l);
        sumX(r + t * fl, l);
      }
      return;
  }
}

}  // namespace

#define TEZIP_RESIDUALS(U)                                                                            \
  TEZIP_CLONES void forwardResiduals(U* k, const Layout& l, Predictor pk) { forward(k, l, pk); } \
  TEZIP_CLONES void inverseResiduals(U* r, const Layout& l, Predictor pk) { inverse(r, l, pk); }
TEZIP_RESIDUALS(uint8_t)
TEZIP_RESIDUALS(uint16_t)
TEZIP_RESIDUALS(uint32_t)
TEZIP_RESIDUALS(uint64_t)
#undef TEZIP_RESIDUALS

}  // namespace tezip
