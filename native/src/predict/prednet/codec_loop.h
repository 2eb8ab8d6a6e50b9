// PredNet inside the chunk codec. Per frame, the network predicts frame t from what came before; the codec
// then codes x − prediction exactly as the previous-frame predictor codes x − previous frame (the prediction
// frame takes the place of the previous frame). Encoder and decoder run this same loop on the same
// reconstructed values, so the predictions agree bit for bit.
//
// Key frames (the chunk's first frame, every `window` frames, or after a frame whose prediction MSE passed
// `mseThreshold`) reset the network and are coded with the intra (2-D Lorenzo) fallback of the previous-frame
// predictor. The `warmup` frames after a key frame are predicted by the previous frame while the network's
// state builds up. With a window or an MSE threshold the network is then fed its own predictions (TEZip's
// chained prediction); otherwise it always sees the reconstructed frames (closed loop).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "../../quantize/abs.h"
#include "../../quantize/detmath.h"
#include "../../quantize/lossless.h"
#include "../../quantize/pwrel.h"
#include "tezip/prednet.h"

namespace tezip {
namespace prednet {

// Lossless coding in the closed loop (the lossless fast path of the other predictors works on whole-array
// finite differences, which a network prediction is not): values are the lossless quantizer's indices k
// (ordered bits, minus the chunk minimum, divided by the common step), residuals k − p wrap modulo 2^bits.
template <class T>
struct LosslessLoopQuantizer {
  using A = uint64_t;
  LosslessParams prm;
  uint64_t mask;
  static constexpr unsigned sideBits = 0;
  uint64_t side = 0;
  explicit LosslessLoopQuantizer(const LosslessParams& p) : prm(p), mask(p.mask()) {}
  bool encode(T x, A p, A& recon, uint64_t& v) {
    uint64_t k = OrderedBits<T>::to(x) - prm.minQ;
    if (prm.step != 1) k /= prm.step;
    recon = k;
    uint64_t r = (k - p) & mask;
    if (prm.bits < 64 && ((r >> (prm.bits - 1)) & 1)) r |= ~mask;  // sign-extend
    v = zigzag(int64_t(r));
    return true;
  }
  T decode(uint64_t v, A p, A& recon, BitReader&) {
    const uint64_t k = (p + uint64_t(unzigzag(v))) & mask;
    recon = k;
    return OrderedBits<T>::from(k * prm.step + prm.minQ);
  }
  T decodeEscape(T x, A, A& recon) {  // never written; a corrupt stream might claim one
    recon = 0;
    return x;
  }
};

// Real value <-> the quantizer's prediction domain A.
template <class T>
inline double clampToType(double v) {
  if constexpr (std::is_floating_point<T>::value) {
    const double hi = double(std::numeric_limits<T>::max());
    return v > hi ? hi : v < -hi ? -hi : v;
  } else {
    const double r = std::floor(v + 0.5);
    const double lo = double(std::numeric_limits<T>::min()), hi = double(std::numeric_limits<T>::max());
    return r < lo ? lo : r > hi ? hi : r;
  }
}

template <class Q>
struct Domain;

template <class T>
struct Domain<LosslessLoopQuantizer<T>> {
  const LosslessLoopQuantizer<T>& q;
  uint64_t kmax;
  explicit Domain(const LosslessLoopQuantizer<T>& qq) : q(qq), kmax(qq.mask) {}
  double value(uint64_t k) const { return double(OrderedBits<T>::from(k * q.prm.step + q.prm.minQ)); }
  uint64_t toA(double v) const {
    const uint64_t o = OrderedBits<T>::to(T(clampToType<T>(v)));
    if (o <= q.prm.minQ) return 0;
    const uint64_t k = (o - q.prm.minQ + q.prm.step / 2) / q.prm.step;
    return k > kmax ? kmax : k;
  }
};

template <class T>
struct Domain<AbsIntQuantizer<T>> {
  explicit Domain(const AbsIntQuantizer<T>&) {}
  double value(int64_t a) const { return double(a); }
  int64_t toA(double v) const { return int64_t(clampToType<T>(v)); }
};

template <class T>
struct Domain<AbsFloatQuantizer<T>> {
  explicit Domain(const AbsFloatQuantizer<T>&) {}
  double value(double a) const { return a; }
  double toA(double v) const { return double(T(clampToType<T>(v))); }
};

template <class T>
struct Domain<PwRelQuantizer<T>> {  // the log2 of magnitudes; signs are not predicted
  explicit Domain(const PwRelQuantizer<T>&) {}
  double value(double a) const { return exp2Det(a); }
  double toA(double v) const {
    const double m = std::fabs(v);
    return log2Det(m > 1e-300 ? (m < 1e300 ? m : 1e300) : 1e-300);
  }
};

template <class Q>
class CodecLoop {
 public:
  using A = typename Q::A;

  CodecLoop(const PredNetModel& m, const PredNetOptions& o, uint32_t height, uint32_t width, const Q& q)
      : opt_(o),
        runner_(m, height, width),
        dom_(q),
        n_(size_t(height) * width * m.cfg.channels),
        lo_(m.cfg.normMin),
        span_(m.cfg.normMax - m.cfg.normMin),
        inv_(1.0 / (m.cfg.normMax - m.cfg.normMin)),
        predA_(n_),
        feed_(n_),
        predV_(n_) {}

  // Before coding frame t: the reference frame for the previous-frame rule, or nullptr for a key frame.
  const A* before(size_t t, const A* prevRecon) {
    key_ = t == 0 || trip_ || (opt_.window && since_ >= opt_.window);
    if (key_) {
      runner_.reset();
      since_ = 0;
      trip_ = false;
    }
    pred_ = runner_.predict();  // always: the top-down pass is part of the state update
    for (size_t i = 0; i < n_; i++) predV_[i] = double(pred_[i]) * span_ + lo_;
    if (key_) return nullptr;
    if (since_ <= opt_.warmup) return prevRecon;
    for (size_t i = 0; i < n_; i++) predA_[i] = dom_.toA(predV_[i]);
    return predA_.data();
  }

  // After coding frame t with reconstruction `recon`: feeds the network and tracks the prediction error.
  void after(const A* recon) {
    const bool chained = (opt_.window || opt_.mseThreshold > 0) && !key_ && since_ > opt_.warmup;
    if (!key_ && opt_.mseThreshold > 0) {
      double s = 0;
      for (size_t i = 0; i < n_; i++) {
        const double d = dom_.value(recon[i]) - predV_[i];
        s += d * d;
      }
      if (!(s / double(n_) <= opt_.mseThreshold)) trip_ = true;  // NaN trips too
    }
    if (chained) {
      runner_.observe(pred_);
    } else {
      for (size_t i = 0; i < n_; i++) feed_[i] = float((dom_.value(recon[i]) - lo_) * inv_);
      runner_.observe(feed_.data());
    }
    since_++;
  }

 private:
  PredNetOptions opt_;
  PredNetRunner runner_;
  Domain<Q> dom_;
  size_t n_;
  double lo_, span_, inv_;
  std::vector<A> predA_;
  std::vector<float> feed_;
  std::vector<double> predV_;
  const float* pred_ = nullptr;
  bool key_ = true, trip_ = false;
  uint32_t since_ = 0;
};

}  // namespace prednet
}  // namespace tezip
