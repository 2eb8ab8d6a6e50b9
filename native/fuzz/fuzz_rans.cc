// libFuzzer target: the context rANS decoder and the hybrid-token extra bits on their own, without the
// chunk framing around them. Input = 5 shape bytes (fuzz_input.h; the dtype byte is ignored), then a rANS
// section as decodeChunk reads it (context mask, frequency tables, stream), then the extra-bits stream.
// Tokens are decoded frame by frame with the same context model as the codec (decodeFrameTokens).
#include <vector>

#include "entropy/rans.h"
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
  uint64_t sink = 0;
  try {
    ByteReader r(input.data(), input.size());
    RansDecoder dec(r);
    BitReader extras(r.pos(), r.left());
    uint8_t* mcur = ma.data();
    uint8_t* mprev = mb.data();
    RansDecoder::Cursor c = dec.cursor();
    auto step = [&](size_t j, unsigned ctx) {
      const unsigned sym = c.next(ctx);
      if (sym >= kAlphabet) throw Error(ErrorCode::Corrupt, "corrupt");
      mcur[j] = tokMag(uint16_t(sym));
      if (sym != kEscToken) {
        const uint64_t v = sym <= 16 ? sym - 1u : tokenBase(sym) + extras.get(tokenExtraBits(sym));
        sink += uint64_t(unzigzag(v));
      }
    };
    for (uint32_t t = 0; t < fs.shape.frames; t++) {
      if (t) std::swap(mcur, mprev);
      forEachFrameContext(mcur, t ? mprev : nullptr, g, step);
    }
    dec.commit(c);
    dec.finish();
  } catch (const Error&) {
  }
  volatile uint64_t keep = sink;  // the decoded values are used
  (void)keep;
  return 0;
}
