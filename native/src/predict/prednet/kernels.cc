#include "kernels.h"

#include <cstdlib>
#include <cstring>

#include "../../core/cpu.h"
#include <cmath>

namespace tezip {
namespace prednet {
namespace {

// One output pixel, output channels [co, co + V) at a time while they last; returns the first channel left.
// Lane i computes exactly the scalar sequence: acc = 0; acc = acc + x * w for each tap; out = acc + bias.
template <int V>
inline __attribute__((always_inline)) uint32_t convBlocks(const Conv& c, uint32_t y, uint32_t x, uint32_t co) {
  typedef float vf __attribute__((vector_size(V * 4)));
  const int p = int(c.k / 2);
  for (; co + V <= c.cout; co += V) {
    vf acc = {};
    for (uint32_t ky = 0; ky < c.k; ky++) {
      const int iy = int(y) + int(ky) - p;
      if (iy < 0 || iy >= int(c.h)) continue;
      for (uint32_t kx = 0; kx < c.k; kx++) {
        const int ix = int(x) + int(kx) - p;
        if (ix < 0 || ix >= int(c.wd)) continue;
        const float* xin = c.in + (size_t(iy) * c.wd + size_t(ix)) * c.cin;
        const float* wp = c.w + (size_t(ky) * c.k + kx) * c.cin * c.cout + co;
        for (uint32_t ci = 0; ci < c.cin; ci++) {
          vf wv;
          std::memcpy(&wv, wp + size_t(ci) * c.cout, sizeof wv);
          const vf prod = xin[ci] * wv;
          acc = acc + prod;
        }
      }
    }
    vf bv;
    std::memcpy(&bv, c.bias + co, sizeof bv);
    acc = acc + bv;
    std::memcpy(c.out + (size_t(y) * c.wd + x) * c.cout + co, &acc, sizeof acc);
  }
  return co;
}

inline __attribute__((always_inline)) void convScalarTail(const Conv& c, uint32_t y, uint32_t x, uint32_t co) {
  const int p = int(c.k / 2);
  for (; co < c.cout; co++) {
    float acc = 0.f;
    for (uint32_t ky = 0; ky < c.k; ky++) {
      const int iy = int(y) + int(ky) - p;
      if (iy < 0 || iy >= int(c.h)) continue;
      for (uint32_t kx = 0; kx < c.k; kx++) {
        const int ix = int(x) + int(kx) - p;
        if (ix < 0 || ix >= int(c.wd)) continue;
        const float* xin = c.in + (size_t(iy) * c.wd + size_t(ix)) * c.cin;
        const float* wp = c.w + (size_t(ky) * c.k + kx) * c.cin * c.cout + co;
        for (uint32_t ci = 0; ci < c.cin; ci++) {
          const float prod = xin[ci] * wp[size_t(ci) * c.cout];
          acc = acc + prod;
        }
      }
    }
    c.out[(size_t(y) * c.wd + x) * c.cout + co] = acc + c.bias[co];
  }
}

void convScalar(const Conv& c) {
  for (uint32_t y = 0; y < c.h; y++)
    for (uint32_t x = 0; x < c.wd; x++) convScalarTail(c, y, x, 0);
}

#if defined(__x86_64__) || defined(__i386__)
#define TEZIP_PREDNET_X86 1
__attribute__((target("sse2"))) void convSse2(const Conv& c) {
  for (uint32_t y = 0; y < c.h; y++)
    for (uint32_t x = 0; x < c.wd; x++) convScalarTail(c, y, x, convBlocks<4>(c, y, x, 0));
}
__attribute__((target("avx2"))) void convAvx2(const Conv& c) {
  for (uint32_t y = 0; y < c.h; y++)
    for (uint32_t x = 0; x < c.wd; x++)
      convScalarTail(c, y, x, convBlocks<4>(c, y, x, convBlocks<8>(c, y, x, 0)));
}
__attribute__((target("avx512f"))) void convAvx512(const Conv& c) {
  for (uint32_t y = 0; y < c.h; y++)
    for (uint32_t x = 0; x < c.wd; x++)
      convScalarTail(c, y, x, convBlocks<4>(c, y, x, convBlocks<8>(c, y, x, convBlocks<16>(c, y, x, 0))));
}
#endif

Path detect() {
#ifdef TEZIP_PREDNET_X86
  const Cpu& k = cpu();  // honours TEZIP_NO_SIMD
  const char* off = std::getenv("TEZIP_NO_SIMD");
  if (off && *off && *off != '0') return Path::Scalar;
  __builtin_cpu_init();
  if (k.avx2 && __builtin_cpu_supports("avx512f")) return Path::Avx512;
  if (k.avx2) return Path::Avx2;
  return Path::Sse2;  // baseline of x86-64
#else
  return Path::Scalar;
#endif
}

Path& current() {
  static Path p = detect();
  return p;
}

}  // namespace

Path kernelPath() { return current(); }
void forcePath(Path p) { current() = p; }

const char* pathName(Path p) {
  switch (p) {
    case Path::Sse2: return "sse2";
    case Path::Avx2: return "avx2";
    case Path::Avx512: return "avx512";
    default: return "scalar";
  }
}

void conv2dSame(const Conv& c) {
  switch (current()) {
#ifdef TEZIP_PREDNET_X86
    case Path::Avx512: return convAvx512(c);
    case Path::Avx2: return convAvx2(c);
    case Path::Sse2: return convSse2(c);
#endif
    default: return convScalar(c);
  }
}

// e^x for |x| <= 21 from + - * / and exact ldexp: x = n ln2 + z, |z| <= ln2/2, Taylor series of e^z in
// Horner form. Kept here (not shared with the quantizers) so that PredNet's bits never change with them.
static double expDet(double x) {
  const double n = std::floor(x * 1.4426950408889634 + 0.5);
  const double z = x - n * 0.6931471805599453;
  double s = 1.0;
  for (int k = 16; k >= 1; k--) s = 1.0 + s * (z / double(k));
  return std::ldexp(s, int(n));
}

float tanhDet(float x) {
  const double d = double(x);
  if (d != d) return x;
  if (d > 10.0) return 1.f;
  if (d < -10.0) return -1.f;
  const double e = expDet(2.0 * d);
  return float((e - 1.0) / (e + 1.0));
}

void maxPool2(const float* in, uint32_t h, uint32_t w, uint32_t c, float* out) {
  const uint32_t oh = h / 2, ow = w / 2;
  for (uint32_t y = 0; y < oh; y++)
    for (uint32_t x = 0; x < ow; x++)
      for (uint32_t k = 0; k < c; k++) {
        const float a = in[((2 * size_t(y)) * w + 2 * x) * c + k], b = in[((2 * size_t(y)) * w + 2 * x + 1) * c + k];
        const float d = in[((2 * size_t(y) + 1) * w + 2 * x) * c + k];
        const float e = in[((2 * size_t(y) + 1) * w + 2 * x + 1) * c + k];
        float m = a > b ? a : b;
        m = m > d ? m : d;
        m = m > e ? m : e;
        out[(size_t(y) * ow + x) * c + k] = m;
      }
}

void upsample2(const float* in, uint32_t h, uint32_t w, uint32_t c, float* out) {
  const uint32_t ow = 2 * w;
  for (uint32_t y = 0; y < 2 * h; y++)
    for (uint32_t x = 0; x < ow; x++)
      std::memcpy(out + (size_t(y) * ow + x) * c, in + (size_t(y / 2) * w + x / 2) * c, c * sizeof(float));
}

}  // namespace prednet
}  // namespace tezip
