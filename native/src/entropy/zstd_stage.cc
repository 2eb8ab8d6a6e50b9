#include "zstd_stage.h"

#include <zstd.h>

#include "tezip/codec.h"

namespace tezip {

std::vector<uint8_t> zstdCompress(const uint8_t* src, size_t n, int level, bool longWindow) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  if (!c) throw Error(ErrorCode::Internal, "zstd: out of memory");
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
  if (longWindow) {
    ZSTD_CCtx_setParameter(c, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 27);  // decoders accept up to 2^27 by default
  }
  ZSTD_CCtx_setPledgedSrcSize(c, n);
  std::vector<uint8_t> out(ZSTD_compressBound(n));
  size_t r = ZSTD_compress2(c, out.data(), out.size(), src, n);
  ZSTD_freeCCtx(c);
  if (ZSTD_isError(r)) throw Error(ErrorCode::Internal, std::string("zstd: ") + ZSTD_getErrorName(r));
  out.resize(r);
  return out;
}

void zstdDecompress(const uint8_t* src, size_t n, uint8_t* dst, size_t expected) {
  unsigned long long declared = ZSTD_getFrameContentSize(src, n);
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared != expected)
    throw Error(ErrorCode::Corrupt, "zstd stream does not match the chunk's declared size");
  ZSTD_DCtx* d = ZSTD_createDCtx();
  if (!d) throw Error(ErrorCode::Internal, "zstd: out of memory");
  ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 27);
  size_t r = ZSTD_decompressDCtx(d, dst, expected, src, n);
  ZSTD_freeDCtx(d);
  if (ZSTD_isError(r) || r != expected) throw Error(ErrorCode::Corrupt, "zstd stream is corrupt");
}

}  // namespace tezip
