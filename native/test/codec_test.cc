// Native unit tests for the chunk codec: round trips of every dtype x mode x predictor on synthetic data
// (special values included), every bound checked element by element, and corrupted payloads rejected
// with an Error, never a crash. Optional: TEZIP_DATA=../shared/data runs the real datasets too and prints
// ratio and MB/s per mode (not a pass/fail criterion).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tezip/codec.h"

using namespace tezip;

static int failures = 0, checks = 0;
#define CHECK(cond, ...)                      \
  do {                                        \
    checks++;                                 \
    if (!(cond)) {                            \
      failures++;                             \
      std::fprintf(stderr, "FAIL %s:%d ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);      \
      std::fprintf(stderr, "\n");             \
    }                                         \
  } while (0)

template <class T>
DType dtypeOf();
template <> DType dtypeOf<uint8_t>() { return DType::U8; }
template <> DType dtypeOf<uint16_t>() { return DType::U16; }
template <> DType dtypeOf<int16_t>() { return DType::I16; }
template <> DType dtypeOf<int32_t>() { return DType::I32; }
template <> DType dtypeOf<float>() { return DType::F32; }
template <> DType dtypeOf<double>() { return DType::F64; }

// Returns the number of elements violating the bound (bit-exact for lossless; NaN/Inf exact always).
template <class T>
size_t violations(const std::vector<T>& a, const std::vector<T>& b, Mode mode, double eb, double eps) {
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); i++) {
    const double x = double(a[i]), y = double(b[i]);
    if (mode == Mode::Lossless || !std::isfinite(x)) {
      if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) bad++;
      continue;
    }
    const double e = std::fabs(y - x);
    const double lim = mode == Mode::Abs ? eb : eps * std::fabs(x);
    if (!(e <= lim)) bad++;
  }
  return bad;
}

static uint8_t gMethod = 0, gLanes = 0;  // the coder under test (0: the encoder's choice)

template <class T>
std::vector<uint8_t> roundTrip(const std::vector<T>& x, Shape sh, Mode mode, double eb, double eps, Predictor pk,
                               int level, const char* what) {
  EncodeParams p;
  p.codedMethod = gMethod;
  p.rowLanes = gLanes;
  p.dtype = dtypeOf<T>();
  p.shape = sh;
  p.mode = mode;
  p.ebAbs = eb;
  p.epsPw = eps;
  p.predictor = pk;
  p.level = level;
  std::vector<uint8_t> enc = encodeChunk(x.data(), p);
  std::vector<T> y(x.size());
  decodeChunk(enc.data(), enc.size(), p.dtype, sh, y.data());
  size_t bad = violations(x, y, mode, eb, eps);
  CHECK(bad == 0, "%s: %zu of %zu elements out of bound (mode %d eb %g eps %g pred %d)", what, bad, x.size(),
        int(mode), eb, eps, int(pk));
  CHECK(enc.size() <= x.size() * sizeof(T) + 2, "%s: output larger than input + 2", what);
  return enc;
}

template <class T>
std::vector<T> synthetic(Shape sh, std::mt19937_64& rng, bool specials) {
  std::vector<T> v(sh.elements());
  std::normal_distribution<double> noise(0, 3);
  for (size_t i = 0; i < v.size(); i++) {
    size_t x = i % sh.width, y = (i / sh.width) % sh.height, t = i / (size_t(sh.width) * sh.height);
    double val = 50 + 40 * std::sin(0.1 * x + 0.05 * t) * std::cos(0.07 * y) + noise(rng);
    if constexpr (std::is_floating_point<T>::value) v[i] = T(val * 1.37);
    else {
      double lo = double(std::numeric_limits<T>::min()), hi = double(std::numeric_limits<T>::max());
      v[i] = T(std::min(hi, std::max(lo, std::round(val))));
    }
  }
  if (specials && !v.empty()) {
    std::uniform_int_distribution<size_t> pos(0, v.size() - 1);
    for (int k = 0; k < 20; k++) {
      size_t i = pos(rng);
      if constexpr (std::is_floating_point<T>::value) {
        const T sp[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                        -std::numeric_limits<T>::infinity(), T(-0.0), T(0), std::numeric_limits<T>::denorm_min(),
                        std::numeric_limits<T>::max(), -std::numeric_limits<T>::max(), T(-3.5)};
        v[i] = sp[k % 9];
      } else {
        const T sp[] = {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0)};
        v[i] = sp[k % 3];
      }
    }
  }
  return v;
}

template <class T>
void syntheticSuite(std::mt19937_64& rng) {
  const Shape shapes[] = {{3, 17, 23, 1}, {1, 1, 1, 1}, {5, 1, 1, 1}, {2, 8, 8, 3}, {1, 33, 7, 1}};
  const Predictor preds[] = {Predictor::Auto, Predictor::None, Predictor::Prev, Predictor::Lorenzo2D,
                             Predictor::Lorenzo3D};
  for (const Shape& sh : shapes)
    for (bool specials : {false, true}) {
      std::vector<T> x = synthetic<T>(sh, rng, specials);
      for (Predictor pk : preds)
        for (int level : {0, 1}) {
          roundTrip(x, sh, Mode::Lossless, 0, 0, pk, level, "lossless");
          for (double eb : {0.0, 0.4, 1.0, 2.5, 1e-3, 100.0}) roundTrip(x, sh, Mode::Abs, eb, 0, pk, level, "abs");
          for (double eps : {1e-1, 1e-2, 1e-3, 1e-6}) roundTrip(x, sh, Mode::PwRel, 0, eps, pk, level, "pwrel");
        }
      // constant frames
      std::vector<T> c(sh.elements(), x[0]);
      roundTrip(c, sh, Mode::Lossless, 0, 0, Predictor::Auto, 1, "constant lossless");
      roundTrip(c, sh, Mode::Abs, 1.0, 0, Predictor::Auto, 1, "constant abs");
      roundTrip(c, sh, Mode::PwRel, 0, 1e-2, Predictor::Auto, 1, "constant pwrel");
    }
  // Both coded methods, every lane count, rows wider than 32 (the vector path) and narrower, 1 and 3 channels.
  const Shape wide[] = {{3, 9, 70, 1}, {2, 5, 37, 3}, {2, 40, 33, 1}, {4, 6, 5, 1}};
  for (const auto& ml : {std::pair<uint8_t, uint8_t>{1, 0}, {3, 8}, {3, 16}, {3, 32}}) {
    gMethod = ml.first;
    gLanes = ml.second;
    for (const Shape& sh : wide) {
      std::vector<T> x = synthetic<T>(sh, rng, true);
      for (Predictor pk : {Predictor::Auto, Predictor::Prev}) {
        std::vector<uint8_t> enc = roundTrip(x, sh, Mode::Lossless, 0, 0, pk, 1, "coder lossless");
        CHECK(enc.size() > 1 && (enc[1] == gMethod || enc[1] == 0 || enc[1] == 2), "coder: method %d, asked for %d",
              enc.size() > 1 ? enc[1] : -1, gMethod);
        roundTrip(x, sh, Mode::Abs, 2.5, 0, pk, 1, "coder abs");
        roundTrip(x, sh, Mode::Abs, 1e-3, 0, pk, 1, "coder abs small");
        roundTrip(x, sh, Mode::PwRel, 0, 1e-2, pk, 1, "coder pwrel");
      }
    }
  }
  gMethod = 0;
  gLanes = 0;
  // Corruption: every single-byte change and every truncation must be rejected or decode to something,
  // never crash; the decoder reads no byte outside the payload (checked under ASan in the sanitizer build).
  // Method 1, and method 3 with 8 and 32 lanes (rows of 40: the vector path where the CPU has it).
  Shape sh{3, 9, 40, 1};
  std::vector<T> x = synthetic<T>(sh, rng, true);
  for (const auto& ml : {std::pair<uint8_t, uint8_t>{1, 0}, {3, 8}, {3, 32}})
  for (Mode mode : {Mode::Lossless, Mode::Abs, Mode::PwRel}) {
    EncodeParams p;
    p.codedMethod = ml.first;
    p.rowLanes = ml.second;
    p.dtype = dtypeOf<T>();
    p.shape = sh;
    p.mode = mode;
    p.ebAbs = 2;
    p.epsPw = 1e-2;
    p.level = 0;
    std::vector<uint8_t> enc = encodeChunk(x.data(), p);
    std::vector<T> y(x.size());
    for (size_t cut = 0; cut < enc.size(); cut++) {
      bool threw = false;
      try {
        decodeChunk(enc.data(), cut, p.dtype, sh, y.data());
      } catch (const Error&) {
        threw = true;
      }
      CHECK(threw, "truncation at %zu of %zu not detected", cut, enc.size());
    }
    for (size_t i = 0; i < enc.size(); i++) {
      std::vector<uint8_t> bad = enc;
      bad[i] ^= uint8_t(1 + (rng() % 255));
      try {
        decodeChunk(bad.data(), bad.size(), p.dtype, sh, y.data());
      } catch (const Error&) {
      }
    }
  }
}

static std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

template <class T>
void dataset(const std::string& name, Shape sh, const std::vector<uint8_t>& raw) {
  std::vector<T> x(raw.size() / sizeof(T));
  std::memcpy(x.data(), raw.data(), x.size() * sizeof(T));
  double mn, mx;
  valueRange(x.data(), dtypeOf<T>(), x.size(), &mn, &mx);
  struct Case { const char* label; Mode mode; double eb, eps; };
  const Case cases[] = {{"lossless", Mode::Lossless, 0, 0}, {"rel 1e-2", Mode::Abs, 1e-2 * (mx - mn), 0},
                        {"rel 1e-3", Mode::Abs, 1e-3 * (mx - mn), 0}, {"rel 1e-4", Mode::Abs, 1e-4 * (mx - mn), 0},
                        {"pwrel 1e-2", Mode::PwRel, 0, 1e-2}, {"pwrel 1e-3", Mode::PwRel, 0, 1e-3}};
  const char* only = std::getenv("TEZIP_CASE");
  for (const Case& c : cases) {
    if (only && std::string(only) != c.label) continue;
    EncodeParams p;
    p.dtype = dtypeOf<T>();
    p.shape = sh;
    p.mode = c.mode;
    p.ebAbs = c.eb;
    p.epsPw = c.eps;
    if (const char* lv = std::getenv("TEZIP_LEVEL")) p.level = std::atoi(lv);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<uint8_t> enc = encodeChunk(x.data(), p);
    auto t1 = std::chrono::steady_clock::now();
    std::vector<T> y(x.size());
    decodeChunk(enc.data(), enc.size(), p.dtype, sh, y.data());
    auto t2 = std::chrono::steady_clock::now();
    // TEZIP_REPEAT=N: best of N decodes (steadier MB/s on a busy machine)
    for (int rep = 1; rep < (std::getenv("TEZIP_REPEAT") ? std::atoi(std::getenv("TEZIP_REPEAT")) : 1); rep++) {
      auto a = std::chrono::steady_clock::now();
      decodeChunk(enc.data(), enc.size(), p.dtype, sh, y.data());
      auto b = std::chrono::steady_clock::now();
      if (b - a < t2 - t1) t2 = t1 + (b - a);
    }
    size_t bad = violations(x, y, c.mode, c.eb, c.eps);
    CHECK(bad == 0, "%s %s: %zu elements out of bound", name.c_str(), c.label, bad);
    ChunkInfo info = inspectChunk(enc.data(), enc.size());
    const double mb = raw.size() / 1e6;
    std::printf("%-16s %-11s ratio %8.3f  comp %7.1f MB/s  decomp %7.1f MB/s  method %d pred %d esc %llu\n",
                name.c_str(), c.label, double(raw.size()) / enc.size(),
                mb / std::chrono::duration<double>(t1 - t0).count(), mb / std::chrono::duration<double>(t2 - t1).count(),
                int(info.method), int(info.predictor), (unsigned long long)info.escapes);
    std::fflush(stdout);
  }
}

// valueRange against the plain scan it replaces: finite values only, ties (±0) kept as first seen.
template <class T>
void rangeSuite(std::mt19937_64& rng) {
  for (int trial = 0; trial < 300; trial++) {
    std::vector<T> v(rng() % 70);
    for (T& x : v) {
      const unsigned kind = unsigned(rng() % 10);
      if constexpr (std::is_floating_point<T>::value) {
        const T sp[] = {T(0), T(-0.0), std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                        -std::numeric_limits<T>::infinity(), std::numeric_limits<T>::denorm_min(),
                        -std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::max(), std::numeric_limits<T>::lowest()};
        x = kind < 4 ? T(std::normal_distribution<double>(0, 1e3)(rng)) * (trial % 3 ? 1 : -1) : sp[rng() % 9];
      } else {
        x = T(rng());
      }
    }
    bool any = false;
    T lo{}, hi{};
    for (T x : v) {
      if constexpr (std::is_floating_point<T>::value)
        if (!std::isfinite(x)) continue;
      if (!any) lo = hi = x, any = true;
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
    double mn = 0, mx = 0;
    const bool got = valueRange(v.data(), dtypeOf<T>(), v.size(), &mn, &mx);
    CHECK(got == any, "valueRange: found %d, expected %d", int(got), int(any));
    if (got && any) {
      CHECK(mn == double(lo) && std::signbit(mn) == std::signbit(double(lo)), "valueRange min %g, expected %g", mn,
            double(lo));
      CHECK(mx == double(hi) && std::signbit(mx) == std::signbit(double(hi)), "valueRange max %g, expected %g", mx,
            double(hi));
    }
  }
}

int main() {
  std::mt19937_64 rng(12345);
  rangeSuite<uint8_t>(rng);
  rangeSuite<uint16_t>(rng);
  rangeSuite<int16_t>(rng);
  rangeSuite<int32_t>(rng);
  rangeSuite<float>(rng);
  rangeSuite<double>(rng);
  if (!std::getenv("TEZIP_SKIP_SYNTH")) {
    syntheticSuite<uint8_t>(rng);
    syntheticSuite<uint16_t>(rng);
    syntheticSuite<int16_t>(rng);
    syntheticSuite<int32_t>(rng);
    syntheticSuite<float>(rng);
    syntheticSuite<double>(rng);
    // CRC-32C known answer ("123456789" -> 0xE3069283)
    const char* s = "123456789";
    CHECK(crc32c(reinterpret_cast<const uint8_t*>(s), 9) == 0xE3069283u, "crc32c check value");
  }
  if (const char* dir = std::getenv("TEZIP_DATA")) {
    const std::string d = dir;
    const char* only = std::getenv("TEZIP_DATASET");
    auto want = [&](const char* n) { return !only || std::string(only) == n; };
    if (want("moving_mnist")) dataset<uint8_t>("moving_mnist", {2000, 64, 64, 1}, [&] { auto r = readFile(d + "/moving_mnist.raw"); r.resize(2000 * 4096); return r; }());
    if (want("bulk_water")) dataset<uint8_t>("bulk_water", {50, 424, 640, 1}, [&] { auto r = readFile(d + "/bulk_water.raw"); r.resize(50 * 424 * 640); return r; }());
    if (want("calcium_imaging")) dataset<uint16_t>("calcium_imaging", {1000, 30, 40, 1}, readFile(d + "/calcium_imaging.raw"));
    if (want("era5_t2m_uk")) dataset<float>("era5_t2m_uk", {744, 33, 49, 1}, readFile(d + "/era5_t2m_uk.raw"));
  }
  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
