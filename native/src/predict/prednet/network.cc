// PredNet forward pass, one time step at a time (Lotter et al.; the layer equations of coxlab/prednet's
// step()): top-down ConvLSTM update of R from R(t-1), E(t-1) and the upsampled R above, then Â = conv(R)
// (the prediction at layer 0), then bottom-up E = [ReLU(Â−A), ReLU(A−Â)] and A(l+1) = maxpool(ReLU(conv(E))).
// Frames are zero-padded to a multiple of 2^(layers-1) and the prediction is cropped back.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "kernels.h"
#include "tezip/codec.h"
#include "tezip/prednet.h"

namespace tezip {

namespace {
// A model arrives from a file: every fault in it is ErrorCode::Model, with what is wrong.
void need(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCode::Model, "PredNet model: " + what);
}

// The architecture's own limits, checked before anything is sized from it (the weight count included).
void checkConfig(const PredNetConfig& cfg) {
  const size_t L = cfg.stack.size();
  need(L >= 1 && L <= 8, "between 1 and 8 layers");
  need(cfg.rStack.size() == L && cfg.ahatFilt.size() == L && cfg.rFilt.size() == L && cfg.aFilt.size() == L - 1,
       "stack, rStack, ahatFilt and rFilt need one entry per layer, aFilt one per layer but the top");
  need(cfg.stack[0] == cfg.channels && cfg.channels >= 1, "stack[0] must equal the channel count");
  for (size_t l = 0; l < L; l++) {
    need(cfg.stack[l] >= 1 && cfg.stack[l] <= 1024 && cfg.rStack[l] >= 1 && cfg.rStack[l] <= 1024,
         "stack sizes must be in 1..1024");
    for (uint32_t k : {cfg.ahatFilt[l], cfg.rFilt[l], l + 1 < L ? cfg.aFilt[l] : 1u})
      need(k % 2 == 1 && k <= 15, "filter sizes must be odd and at most 15");
  }
  // Finite, so that a prediction (in [0, pixelMax], mapped by (normMax - normMin) and normMin) is never NaN;
  // pixelMax also becomes a float.
  need(std::isfinite(cfg.pixelMax) && cfg.pixelMax > 0 && cfg.pixelMax <= double(std::numeric_limits<float>::max()),
       "pixelMax must be a positive finite float");
  need(std::isfinite(cfg.normMin) && std::isfinite(cfg.normMax) && cfg.normMax > cfg.normMin &&
           std::isfinite(cfg.normMax - cfg.normMin),
       "normalisation needs finite min < max");
}

size_t weightCountOf(const PredNetConfig& cfg) {  // cfg checked: each term is far below 2^40
  const size_t L = cfg.stack.size();
  size_t n = 0;
  for (size_t l = 0; l < L; l++) {
    const size_t cin = size_t(cfg.rStack[l]) + 2 * size_t(cfg.stack[l]) + (l + 1 < L ? cfg.rStack[l + 1] : 0);
    const size_t k = cfg.rFilt[l], kh = cfg.ahatFilt[l];
    n += k * k * cin * 4 * cfg.rStack[l] + 4 * size_t(cfg.rStack[l]);
    n += kh * kh * cfg.rStack[l] * cfg.stack[l] + cfg.stack[l];
    if (l + 1 < L) {
      const size_t ka = cfg.aFilt[l];
      n += ka * ka * 2 * size_t(cfg.stack[l]) * cfg.stack[l + 1] + cfg.stack[l + 1];
    }
  }
  return n;
}
}  // namespace

size_t predNetWeightCount(const PredNetConfig& cfg) {
  checkConfig(cfg);
  return weightCountOf(cfg);
}

std::shared_ptr<const PredNetModel> makePredNetModel(PredNetConfig cfg, std::vector<float> weights,
                                                     const std::array<uint8_t, 32>& sha256) {
  checkConfig(cfg);
  const size_t want = weightCountOf(cfg);
  need(weights.size() == want,
       "expected " + std::to_string(want) + " weights but got " + std::to_string(weights.size()));
  for (size_t i = 0; i < weights.size(); i++)
    need(std::isfinite(weights[i]), "weight " + std::to_string(i) + " is not finite");
  auto m = std::make_shared<PredNetModel>();
  m->cfg = std::move(cfg);
  m->weights = std::move(weights);
  m->sha256 = sha256;
  return m;
}

size_t predNetStateBytes(const PredNetConfig& cfg, uint32_t height, uint32_t width) {
  checkConfig(cfg);
  const size_t L = cfg.stack.size();
  const uint64_t mult = uint64_t(1) << (L - 1);
  const uint64_t hp = (uint64_t(height) + mult - 1) / mult * mult, wp = (uint64_t(width) + mult - 1) / mult * mult;
  uint64_t floats = uint64_t(height) * width * cfg.channels;  // the prediction
  for (size_t l = 0; l < L; l++) {
    const uint64_t px = (hp >> l) * (wp >> l), A = cfg.stack[l], R = cfg.rStack[l];
    const uint64_t cin = R + 2 * A + (l + 1 < L ? cfg.rStack[l + 1] : 0);
    floats += px * (2 * R + 2 * A + A + A + 4 * R + cin);  // r, c, e, ahat, a, z, in
    if (l + 1 < L) floats += px * (uint64_t(cfg.rStack[l + 1]) + cfg.stack[l + 1]);  // up, tmp (at most)
  }
  return size_t(floats * sizeof(float));  // frames are at most 65536^2: far below 2^64
}

const char* predNetKernelPath() { return prednet::pathName(prednet::kernelPath()); }

struct PredNetRunner::Impl {
  struct Layer {
    uint32_t h, w, A, R, cin;
    const float *wl, *bl, *wh, *bh, *wa, *ba;
    uint32_t kl, kh, ka;
    std::vector<float> r, c, e, ahat, a, z, in;
  };
  const PredNetModel& m;
  uint32_t H, W, C, Hp, Wp;
  std::vector<Layer> layers;
  std::vector<float> pred, up, tmp;

  Impl(const PredNetModel& model, uint32_t height, uint32_t width) : m(model), H(height), W(width) {
    const PredNetConfig& cfg = m.cfg;
    const size_t L = cfg.stack.size();
    const uint32_t mult = 1u << (L - 1);
    if (!height || !width || height > 65536 || width > 65536)
      throw Error(ErrorCode::InvalidArgument, "PredNet: frame size out of range");
    // The state grows with frame size times the model's channels: a wide model on big frames is refused
    // here, plainly, rather than failing inside an allocation.
    const size_t bytes = predNetStateBytes(model.cfg, height, width);
    if (bytes > kPredNetMaxStateBytes)
      throw Error(ErrorCode::TooLarge, "PredNet: the model needs " + std::to_string(bytes >> 20) + " MiB of state for " +
                                           std::to_string(height) + "x" + std::to_string(width) + " frames (limit " +
                                           std::to_string(kPredNetMaxStateBytes >> 20) + " MiB)");
    C = cfg.channels;
    Hp = (H + mult - 1) / mult * mult;
    Wp = (W + mult - 1) / mult * mult;
    layers.resize(L);
    const float* p = m.weights.data();
    for (size_t l = 0; l < L; l++) {
      Layer& y = layers[l];
      y.h = Hp >> l;
      y.w = Wp >> l;
      y.A = cfg.stack[l];
      y.R = cfg.rStack[l];
      y.cin = y.R + 2 * y.A + (l + 1 < L ? cfg.rStack[l + 1] : 0);
      y.kl = cfg.rFilt[l];
      y.kh = cfg.ahatFilt[l];
      y.ka = l + 1 < L ? cfg.aFilt[l] : 0;
      y.wl = p; p += size_t(y.kl) * y.kl * y.cin * 4 * y.R;
      y.bl = p; p += 4 * size_t(y.R);
      y.wh = p; p += size_t(y.kh) * y.kh * y.R * y.A;
      y.bh = p; p += y.A;
      y.wa = y.ba = nullptr;
      if (l + 1 < L) {
        y.wa = p; p += size_t(y.ka) * y.ka * 2 * y.A * cfg.stack[l + 1];
        y.ba = p; p += cfg.stack[l + 1];
      }
      const size_t px = size_t(y.h) * y.w;
      y.r.assign(px * y.R, 0.f);
      y.c.assign(px * y.R, 0.f);
      y.e.assign(px * 2 * y.A, 0.f);
      y.ahat.assign(px * y.A, 0.f);
      y.a.assign(px * y.A, 0.f);
      y.z.assign(px * 4 * y.R, 0.f);
      y.in.assign(px * y.cin, 0.f);
    }
    pred.assign(size_t(H) * W * C, 0.f);
    size_t upN = 1, tmpN = 1;  // layer l's conv to A(l+1) and the upsampled R(l+1), both at layer l's size
    for (size_t l = 0; l + 1 < L; l++) {
      const size_t px = size_t(layers[l].h) * layers[l].w;
      upN = std::max(upN, px * cfg.rStack[l + 1]);
      tmpN = std::max(tmpN, px * cfg.stack[l + 1]);
    }
    up.assign(upN, 0.f);
    tmp.assign(tmpN, 0.f);
  }

  void reset() {
    for (Layer& y : layers) {
      std::fill(y.r.begin(), y.r.end(), 0.f);
      std::fill(y.c.begin(), y.c.end(), 0.f);
      std::fill(y.e.begin(), y.e.end(), 0.f);
    }
  }

  const float* predict() {
    const size_t L = layers.size();
    for (size_t li = L; li-- > 0;) {
      Layer& y = layers[li];
      const size_t px = size_t(y.h) * y.w;
      const uint32_t rup = li + 1 < L ? layers[li + 1].R : 0;
      if (rup) prednet::upsample2(layers[li + 1].r.data(), layers[li + 1].h, layers[li + 1].w, rup, up.data());
      for (size_t i = 0; i < px; i++) {  // inputs = [R(t-1), E(t-1), upsample(R above)]
        float* d = y.in.data() + i * y.cin;
        std::copy_n(y.r.data() + i * y.R, y.R, d);
        std::copy_n(y.e.data() + i * 2 * y.A, 2 * y.A, d + y.R);
        if (rup) std::copy_n(up.data() + i * rup, rup, d + y.R + 2 * y.A);
      }
      prednet::conv2dSame({y.in.data(), y.wl, y.bl, y.z.data(), y.h, y.w, y.cin, 4 * y.R, y.kl});
      const uint32_t R = y.R;
      for (size_t i = 0; i < px; i++) {  // gates i, f, c, o
        const float* z = y.z.data() + i * 4 * R;
        float* c = y.c.data() + i * R;
        float* r = y.r.data() + i * R;
        for (uint32_t k = 0; k < R; k++) {
          const float ig = prednet::hardSigmoid(z[k]);
          const float fg = prednet::hardSigmoid(z[R + k]);
          const float gg = prednet::tanhDet(z[2 * R + k]);
          const float og = prednet::hardSigmoid(z[3 * R + k]);
          const float fc = fg * c[k];
          const float ic = ig * gg;
          c[k] = fc + ic;
          r[k] = og * prednet::tanhDet(c[k]);
        }
      }
    }
    Layer& y0 = layers[0];
    ahatOf(y0, true);
    for (uint32_t yy = 0; yy < H; yy++)
      std::copy_n(y0.ahat.data() + size_t(yy) * Wp * C, size_t(W) * C, pred.data() + size_t(yy) * W * C);
    return pred.data();
  }

  void ahatOf(Layer& y, bool bottom) {
    prednet::conv2dSame({y.r.data(), y.wh, y.bh, y.ahat.data(), y.h, y.w, y.R, y.A, y.kh});
    const float mx = float(m.cfg.pixelMax);
    for (float& v : y.ahat) {
      v = prednet::relu(v);
      if (bottom) v = v < mx ? v : mx;
    }
  }

  void observe(const float* frame) {
    Layer& y0 = layers[0];
    std::fill(y0.a.begin(), y0.a.end(), 0.f);
    for (uint32_t yy = 0; yy < H; yy++)
      std::copy_n(frame + size_t(yy) * W * C, size_t(W) * C, y0.a.data() + size_t(yy) * Wp * C);
    const size_t L = layers.size();
    for (size_t li = 0; li < L; li++) {
      Layer& y = layers[li];
      if (li > 0) ahatOf(y, false);
      const size_t px = size_t(y.h) * y.w;
      for (size_t i = 0; i < px; i++)
        for (uint32_t k = 0; k < y.A; k++) {
          const float ah = y.ahat[i * y.A + k], a = y.a[i * y.A + k];
          y.e[i * 2 * y.A + k] = prednet::relu(ah - a);
          y.e[i * 2 * y.A + y.A + k] = prednet::relu(a - ah);
        }
      if (li + 1 < L) {
        Layer& n = layers[li + 1];
        prednet::conv2dSame({y.e.data(), y.wa, y.ba, tmp.data(), y.h, y.w, 2 * y.A, n.A, y.ka});
        const size_t cnt = px * n.A;
        for (size_t i = 0; i < cnt; i++) tmp[i] = prednet::relu(tmp[i]);
        prednet::maxPool2(tmp.data(), y.h, y.w, n.A, n.a.data());
      }
    }
  }
};

PredNetRunner::PredNetRunner(const PredNetModel& m, uint32_t height, uint32_t width)
    : impl_(new Impl(m, height, width)) {}
PredNetRunner::~PredNetRunner() = default;
void PredNetRunner::reset() { impl_->reset(); }
const float* PredNetRunner::predict() { return impl_->predict(); }
void PredNetRunner::observe(const float* frame) { impl_->observe(frame); }

}  // namespace tezip
