// libFuzzer target: method 3's row-lane rANS decoder (entropy/rans_rows.h) and the hybrid-token extra bits on
// their own, without the chunk framing around them. Input = 5 shape bytes (fuzz_input.h; the dtype byte is
// ignored), then a token section as decodeChunk reads it for method 3 (lanes byte, u32 context mask,
// frequency tables, stream), then the extra-bits stream. Tokens are decoded row by row with the codec's
// context model; with rows of 32 or more and an AVX2 CPU the vector path runs, else the scalar one.
#include <vector>

#include "entropy/rans_rows.h"
#include "entropy/tokens.h"
#include "fuzz_input.h"

using namespace tezip;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tezip_fuzz::FuzzShape fs;
  if (!tezip_fuzz::takeShape(data, size, fs)) return -1;
  std::vector<uint8_t> input(data, data + size);  // exact-size copy: overreads are caught
  const Geometry g{size_t(fs.shape.width) * fs.shape.channels, fs.shape.channels, fs.shape.height};
  const size_t fl = g.frameLen();
  std::vector<uint8_t> ma(fl), mb(fl);
  std::vector<uint16_t> sums(g.rowLen), tok(g.rowLen);
  uint64_t sink = 0;
  try {
    ByteReader r(input.data(), input.size());
    RowRansDecoder dec(r);
    BitReader extras(r.pos(), r.left());
    uint8_t* mcur = ma.data();
    uint8_t* mprev = mb.data();
    for (uint32_t t = 0; t < fs.shape.frames; t++) {
      if (t) std::swap(mcur, mprev);
      for (size_t y = 0; y < g.rows; y++) {
        rowContextSums(mcur, t ? mprev : nullptr, y, g, sums.data());
        dec.decodeRow(sums.data(), g.rowLen, tok.data());
        for (size_t j = 0; j < g.rowLen; j++) {
          const unsigned sym = tok[j];
          if (sym >= kAlphabet) __builtin_trap();  // decodeRow throws before handing out such a symbol
          mcur[y * g.rowLen + j] = tokMag(uint16_t(sym));
          if (sym != kEscToken) {
            const uint64_t v = sym <= 16 ? sym - 1u : tokenBase(sym) + extras.get(tokenExtraBits(sym));
            sink += uint64_t(unzigzag(v));
          }
        }
      }
    }
    dec.finish();
  } catch (const Error&) {
  }
  volatile uint64_t keep = sink;  // the decoded values are used
  (void)keep;
  return 0;
}
