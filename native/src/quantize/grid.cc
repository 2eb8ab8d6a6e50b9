#include "grid.h"

#include "../core/cpu.h"

namespace tezip {

TEZIP_CLONES bool gridQuantize(const float* x, size_t n, double eb, GridParams& p, std::vector<uint32_t>& u,
                               std::vector<uint64_t>& escapes) {
  return gridQuantizeImpl(x, n, eb, p, u, escapes);
}

TEZIP_CLONES bool gridQuantize(const double* x, size_t n, double eb, GridParams& p, std::vector<uint64_t>& u,
                               std::vector<uint64_t>& escapes) {
  return gridQuantizeImpl(x, n, eb, p, u, escapes);
}

}  // namespace tezip
