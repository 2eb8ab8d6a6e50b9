// PredNet (Lotter, Kreiman & Cox 2016) for the codec: deterministic native inference of a model trained in
// TypeScript (src/prednet/). The same weights and inputs give the same bits on every x86-64 machine, scalar
// or SIMD: fixed accumulation order, vectorised only across output channels, no FMA contraction, and
// tanh made of + - * / (see native/src/predict/prednet/).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace tezip {

struct PredNetConfig {
  uint32_t channels = 1;             // input channels (= stack[0])
  std::vector<uint32_t> stack;       // A channels per layer
  std::vector<uint32_t> rStack;      // R (ConvLSTM) channels per layer
  std::vector<uint32_t> aFilt;       // A conv kernel size per layer but the top (odd)
  std::vector<uint32_t> ahatFilt;    // Â conv kernel size per layer (odd)
  std::vector<uint32_t> rFilt;       // ConvLSTM kernel size per layer (odd)
  double pixelMax = 1.0;             // Â of layer 0 is clipped to this
  double normMin = 0, normMax = 1;   // network input = (x - normMin) / (normMax - normMin)
};

// Number of float32 weights the config needs, in the order of docs/PREDNET.md ("weights"). Checks the
// config first (throws tezip::Error, ErrorCode::Model), so any config may be passed.
size_t predNetWeightCount(const PredNetConfig& cfg);

// Bytes of network state a PredNetRunner of this config needs for height x width frames (config checked).
size_t predNetStateBytes(const PredNetConfig& cfg, uint32_t height, uint32_t width);
// A runner needing more is refused (ErrorCode::TooLarge) before it allocates: 16 GiB, frames of about
// 5000x5000 pixels with the shipped moving_mnist model (656 bytes a pixel).
constexpr size_t kPredNetMaxStateBytes = size_t(16) << 30;

struct PredNetModel {
  PredNetConfig cfg;
  std::vector<float> weights;
  std::array<uint8_t, 32> sha256{};  // of the weights file, as recorded in the model manifest
};

// Checks the config (sizes, odd kernels, layer counts, finite normalisation) and the weights (count, all
// finite); throws tezip::Error (ErrorCode::Model) with a clear message otherwise. Model files are untrusted.
std::shared_ptr<const PredNetModel> makePredNetModel(PredNetConfig cfg, std::vector<float> weights,
                                                     const std::array<uint8_t, 32>& sha256);

// How the codec uses the network (TEZip's schemes). Closed loop by default: the network sees the
// reconstructed frames. window > 0: a key frame every `window` frames; mseThreshold > 0: a key frame after a
// frame whose prediction MSE (in data units) exceeded it. In either, after `warmup` frames the network is fed
// its own predictions (TEZip's chained prediction). warmup: frames after a key frame predicted by the
// previous frame while the network's state builds up.
struct PredNetOptions {
  uint32_t window = 0;
  double mseThreshold = 0;
  uint32_t warmup = 0;
};

// Predicts frames of height x width x channels (HWC, float, normalised units) one step at a time.
class PredNetRunner {
 public:
  PredNetRunner(const PredNetModel& m, uint32_t height, uint32_t width);
  ~PredNetRunner();
  void reset();                // zero state (start of a sequence)
  const float* predict();      // top-down pass: the prediction of the next frame (height*width*channels)
  void observe(const float* frame);  // bottom-up pass with the actual (or chained) frame
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Which SIMD path the PredNet kernels use on this CPU ("avx512", "avx2", "sse2", "scalar").
const char* predNetKernelPath();

}  // namespace tezip
