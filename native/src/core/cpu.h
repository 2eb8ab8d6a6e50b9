// Run-time CPU feature detection: SIMD paths are chosen here, never at build time.
#pragma once
namespace tezip {
struct Cpu {
  bool sse42 = false, avx2 = false;
};
const Cpu& cpu();
}  // namespace tezip
