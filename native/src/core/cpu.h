// Run-time CPU feature detection: SIMD paths are chosen here, never at build time.
#pragma once

// A function compiled twice, for AVX2 and for the baseline, the CPU choosing at load time (gcc's
// target_clones; clang builds, such as the sanitizer and fuzz ones, get the baseline only).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TEZIP_CLONES __attribute__((target_clones("avx2", "default"), optimize("O3")))
#else
#define TEZIP_CLONES
#endif
namespace tezip {
struct Cpu {
  bool sse42 = false, avx2 = false;
};
const Cpu& cpu();
}  // namespace tezip
