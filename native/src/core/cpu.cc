#include "cpu.h"

#include <cstdlib>
#include <string>

#include "tezip/codec.h"

namespace tezip {

const Cpu& cpu() {
  static const Cpu c = [] {
    Cpu r;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    r.sse42 = __builtin_cpu_supports("sse4.2");
    r.avx2 = __builtin_cpu_supports("avx2");
#endif
    // TEZIP_NO_SIMD=1 forces the portable paths (used by tests to compare both).
    const char* off = std::getenv("TEZIP_NO_SIMD");
    if (off && *off && *off != '0') r = Cpu();
    return r;
  }();
  return c;
}

std::string cpuFeatures() {
  std::string s;
  if (cpu().sse42) s += "sse4.2";
  if (cpu().avx2) s += s.empty() ? "avx2" : ",avx2";
  return s.empty() ? "portable" : s;
}

}  // namespace tezip
