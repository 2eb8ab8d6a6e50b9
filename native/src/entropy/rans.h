// Context-adaptive static rANS over hybrid tokens. Contexts come from the tokens of already-coded
// neighbours (west, north, north-east, same pixel in the previous frame), so the decoder derives them
// before it reconstructs any value. Two interleaved 32-bit states, byte-wise renormalisation, 12-bit
// probabilities; one frequency table per context, stored in the chunk.
#pragma once
#include <cstdint>
#include <vector>

#include "../core/bytes.h"
#include "tokens.h"

namespace tezip {

constexpr unsigned kContexts = 16;
constexpr unsigned kScaleBits = 12;
constexpr uint32_t kScale = 1u << kScaleBits;
constexpr uint32_t kRansL = 1u << 23;

struct Geometry {  // one frame, channels interleaved: index = (y*W + x)*C + c
  size_t rowLen;   // W*C
  size_t chans;    // C
  size_t rows;     // H
  size_t frameLen() const { return rowLen * rows; }
};

inline unsigned ctxBucket(unsigned s) {
  if (s < 8) return s;
  unsigned lg = 31u - unsigned(__builtin_clz(s));  // >= 3
  unsigned b = 8 + 2 * (lg - 3) + ((s >> (lg - 1)) & 1u);
  return b < kContexts ? b : kContexts - 1;
}

inline unsigned tokMag(uint16_t t) { return t ? t - 1u : 0u; }

// Context of element j (col = j % rowLen) of a frame; prev is null for a chunk's first frame.
inline unsigned contextAt(const uint16_t* cur, const uint16_t* prev, size_t j, size_t col, bool hasN,
                          const Geometry& g) {
  unsigned s = 0;
  if (col >= g.chans) s += 2 * tokMag(cur[j - g.chans]);
  if (hasN) {
    s += tokMag(cur[j - g.rowLen]);
    s += tokMag(col + g.chans < g.rowLen ? cur[j - g.rowLen + g.chans] : cur[j - g.rowLen]);
  }
  if (prev) s += tokMag(prev[j]);
  return ctxBucket(s);
}

// Fills ctx[] for a whole chunk of tokens (frames × frameLen).
void computeContexts(const uint16_t* tok, size_t frames, const Geometry& g, uint8_t* ctx);

struct Histograms {
  uint32_t count[kContexts][kAlphabet] = {};
  void add(const uint16_t* tok, const uint8_t* ctx, size_t n) {
    for (size_t i = 0; i < n; i++) count[ctx[i]][tok[i]]++;
  }
  double costBits() const;  // coded size estimate, tables included
};

// Writes tables and the rANS stream for tok[0..n) under ctx[0..n).
void ransEncode(const uint16_t* tok, const uint8_t* ctx, size_t n, const Histograms& h, ByteWriter& out);

class RansDecoder {
 public:
  explicit RansDecoder(ByteReader& in);  // reads tables and takes the stream
  unsigned next(unsigned ctx) {
    uint32_t& x = state_[parity_];
    parity_ ^= 1;
    const Slot s = table_[ctx][x & (kScale - 1)];
    x = uint32_t(s.freq) * (x >> kScaleBits) + (x & (kScale - 1)) - s.start;
    while (x < kRansL) {
      if (p_ == end_) throw Error(ErrorCode::Corrupt, "entropy-coded stream ends early");
      x = (x << 8) | *p_++;
    }
    return s.sym;
  }
  void finish() const;  // the stream must end exactly where the encoder started

 private:
  struct Slot {
    uint16_t sym, freq, start, pad;
  };
  std::vector<Slot> table_[kContexts];
  uint32_t state_[2];
  unsigned parity_ = 0;
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace tezip
