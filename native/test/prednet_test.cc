// PredNet native inference: every SIMD path this CPU has gives the same bits as the scalar path (hash of
// all predictions over several steps), the activations are accurate, and bad models are refused.
// `test_prednet_test --print-hash` prints the hash of the path this CPU picks by itself; the qemu tests
// registered in CMakeLists.txt compare it with runs on emulated CPUs lacking AVX2 / AVX-512.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "predict/prednet/kernels.h"
#include "tezip/codec.h"
#include "tezip/prednet.h"

using namespace tezip;

static int failures = 0, checks = 0;
#define CHECK(cond, ...)                                        \
  do {                                                          \
    checks++;                                                   \
    if (!(cond)) {                                              \
      failures++;                                               \
      std::fprintf(stderr, "FAIL %s:%d ", __FILE__, __LINE__);  \
      std::fprintf(stderr, __VA_ARGS__);                        \
      std::fprintf(stderr, "\n");                               \
    }                                                           \
  } while (0)

static std::shared_ptr<const PredNetModel> randomModel(uint32_t seed) {
  PredNetConfig cfg;
  cfg.channels = 1;
  cfg.stack = {1, 8, 20};  // 20: exercises the 16-, 4-wide and scalar tails
  cfg.rStack = {1, 8, 20};
  cfg.aFilt = {3, 3};
  cfg.ahatFilt = {3, 3, 3};
  cfg.rFilt = {3, 3, 3};
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 0.3f);
  std::vector<float> w(predNetWeightCount(cfg));
  for (float& v : w) v = nd(rng);
  return makePredNetModel(cfg, w, {});
}

// FNV-1a over the bits of every prediction of `steps` steps on moving blobs.
static uint64_t predictionHash(const PredNetModel& m, uint32_t h, uint32_t w, int steps) {
  PredNetRunner run(m, h, w);
  std::vector<float> frame(size_t(h) * w);
  uint64_t hash = 1469598103934665603ull;
  for (int t = 0; t < steps; t++) {
    const float* p = run.predict();
    for (size_t i = 0; i < frame.size(); i++) {
      uint32_t b;
      std::memcpy(&b, p + i, 4);
      for (int k = 0; k < 4; k++) hash = (hash ^ ((b >> (8 * k)) & 0xff)) * 1099511628211ull;
    }
    for (uint32_t y = 0; y < h; y++)
      for (uint32_t x = 0; x < w; x++) {
        const float dy = float(y) - 5.f - 1.5f * t, dx = float(x) - 7.f - 2.f * t;
        frame[size_t(y) * w + x] = std::exp(-(dx * dx + dy * dy) / 18.f);
      }
    run.observe(frame.data());
  }
  return hash;
}

static bool supported(prednet::Path p) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (p) {
    case prednet::Path::Sse2: return true;
    case prednet::Path::Avx2: return __builtin_cpu_supports("avx2");
    case prednet::Path::Avx512: return __builtin_cpu_supports("avx512f");
    default: return true;
  }
#else
  return p == prednet::Path::Scalar;
#endif
}

int main(int argc, char** argv) {
  auto model = randomModel(7);
  if (argc > 1 && std::string(argv[1]) == "--print-hash") {
    std::printf("%016llx %s\n", (unsigned long long)predictionHash(*model, 26, 38, 6),
                prednet::pathName(prednet::kernelPath()));
    return 0;
  }

  // 1. Every path gives the scalar path's bits (26x38: padded to 28x40 inside).
  const prednet::Path chosen = prednet::kernelPath();
  prednet::forcePath(prednet::Path::Scalar);
  const uint64_t ref = predictionHash(*model, 26, 38, 6);
  int compared = 0;
  for (prednet::Path p : {prednet::Path::Sse2, prednet::Path::Avx2, prednet::Path::Avx512}) {
    if (!supported(p)) continue;
    prednet::forcePath(p);
    const uint64_t h = predictionHash(*model, 26, 38, 6);
    CHECK(h == ref, "path %s: hash %016llx != scalar %016llx", prednet::pathName(p), (unsigned long long)h,
          (unsigned long long)ref);
    compared++;
  }
  prednet::forcePath(chosen);
  std::printf("prednet: scalar hash %016llx, %d SIMD paths compared, auto path %s\n", (unsigned long long)ref,
              compared, prednet::pathName(chosen));

  // 2. Predictions are finite, in [0, pixelMax], and depend on the input (not a constant).
  {
    PredNetRunner run(*model, 16, 16);
    std::vector<float> f(256, 0.25f);
    run.predict();
    run.observe(f.data());
    const float* p = run.predict();
    bool ok = true;
    for (int i = 0; i < 256; i++) ok = ok && std::isfinite(p[i]) && p[i] >= 0.f && p[i] <= 1.f;
    CHECK(ok, "prediction out of [0, 1]");
  }

  // 3. tanhDet: close to libm's tanh everywhere, odd, saturating; hardSigmoid as Keras defines it.
  {
    double worst = 0;
    for (int i = -200000; i <= 200000; i++) {
      const float x = float(i) * 1e-4f;
      worst = std::max(worst, std::fabs(double(prednet::tanhDet(x)) - std::tanh(double(x))));
    }
    CHECK(worst < 2e-7, "tanhDet error %g", worst);
    CHECK(prednet::tanhDet(30.f) == 1.f && prednet::tanhDet(-30.f) == -1.f, "tanh saturation");
    CHECK(prednet::hardSigmoid(-3.f) == 0.f && prednet::hardSigmoid(3.f) == 1.f &&
              prednet::hardSigmoid(0.f) == 0.5f,
          "hard sigmoid");
  }

  // 4. Bad models (untrusted files) are refused with ErrorCode::Model.
  {
    PredNetConfig cfg;
    cfg.stack = {1, 4};
    cfg.rStack = {1, 4};
    cfg.aFilt = {3};
    cfg.ahatFilt = {3, 3};
    cfg.rFilt = {3, 3};
    const size_t n = predNetWeightCount(cfg);
    auto refused = [](PredNetConfig c, size_t count) {
      try {
        makePredNetModel(c, std::vector<float>(count), {});
      } catch (const Error& e) {
        return e.code() == ErrorCode::Model;
      }
      return false;
    };
    CHECK(!refused(cfg, n), "valid model refused");
    CHECK(refused(cfg, n - 1), "short weights accepted");
    PredNetConfig even = cfg;
    even.rFilt = {3, 4};
    CHECK(refused(even, n), "even kernel accepted");
    PredNetConfig layers = cfg;
    layers.aFilt = {};
    CHECK(refused(layers, n), "wrong aFilt count accepted");
    // The weight count of an inconsistent config is an error too, not a read past its lists.
    PredNetConfig shortR = cfg;
    shortR.rStack = {1};
    bool counted = true;
    try {
      predNetWeightCount(shortR);
    } catch (const Error& e) {
      counted = e.code() != ErrorCode::Model;
    }
    CHECK(!counted, "weight count of an inconsistent config");
    for (double bad : {std::nan(""), HUGE_VAL, -1.0, 0.0, 1e39}) {
      PredNetConfig px = cfg;
      px.pixelMax = bad;
      CHECK(refused(px, n), "pixelMax %g accepted", bad);
    }
    PredNetConfig norm = cfg;
    norm.normMin = -1e308;
    norm.normMax = 1e308;  // span overflows to inf
    CHECK(refused(norm, n), "infinite normalisation span accepted");
    norm.normMin = 0;
    norm.normMax = HUGE_VAL;
    CHECK(refused(norm, n), "infinite normMax accepted");
    {
      std::vector<float> w(n, 0.f);
      w[n / 2] = std::nanf("");
      bool ok = false;
      try {
        makePredNetModel(cfg, w, {});
      } catch (const Error& e) {
        ok = e.code() == ErrorCode::Model;
      }
      CHECK(ok, "NaN weight accepted");
    }
    // Network state is sized before it is allocated: a wide model on big frames is refused plainly.
    PredNetConfig wide;
    wide.stack = {1, 64};
    wide.rStack = {64, 64};
    wide.aFilt = {1};
    wide.ahatFilt = {1, 1};
    wide.rFilt = {1, 1};
    auto wm = makePredNetModel(wide, std::vector<float>(predNetWeightCount(wide), 0.f), {});
    CHECK(predNetStateBytes(wide, 4096, 4096) > kPredNetMaxStateBytes, "state estimate");
    bool tooLarge = false;
    try {
      PredNetRunner r(*wm, 4096, 4096);
    } catch (const Error& e) {
      tooLarge = e.code() == ErrorCode::TooLarge;
    }
    CHECK(tooLarge, "runner state beyond the cap was not refused");
  }

  std::printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
