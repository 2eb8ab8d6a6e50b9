// Deterministic PredNet kernels over HWC float tensors. Every output value is computed by the same
// sequence of IEEE operations whichever path runs: the SIMD paths only put several output channels side by
// side, so each lane does exactly what the scalar loop does (the build uses -ffp-contract=off: no FMA).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tezip {
namespace prednet {

enum class Path { Scalar = 0, Sse2 = 1, Avx2 = 2, Avx512 = 3 };
Path kernelPath();            // chosen once from the CPU (TEZIP_NO_SIMD=1 forces Scalar)
void forcePath(Path p);       // tests: run a given path (must be supported by the CPU)
const char* pathName(Path p);

struct Conv {
  const float* in;   // h x w x cin
  const float* w;    // k x k x cin x cout (tfjs / Keras layout)
  const float* bias; // cout
  float* out;        // h x w x cout
  uint32_t h, wd, cin, cout, k;
};
// 'same' convolution, stride 1: out = bias + sum over (ky, kx, ci) in that order of in * w, where taps
// outside the frame are skipped.
void conv2dSame(const Conv& c);

// Activations built from + - * / (and exact floor/ldexp): identical on every machine.
float tanhDet(float x);
inline float hardSigmoid(float x) {  // Keras: clip(0.2 x + 0.5, 0, 1)
  float y = x * 0.2f;
  y = y + 0.5f;
  return y < 0.f ? 0.f : (y > 1.f ? 1.f : y);
}
inline float relu(float x) { return x > 0.f ? x : 0.f; }

void maxPool2(const float* in, uint32_t h, uint32_t w, uint32_t c, float* out);     // -> h/2 x w/2 x c
void upsample2(const float* in, uint32_t h, uint32_t w, uint32_t c, float* out);    // nearest -> 2h x 2w x c

}  // namespace prednet
}  // namespace tezip
