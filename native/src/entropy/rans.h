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

// Context of element j of a frame from its coded neighbours: 2·west + north + north-east (north at the
// last column) + same place in the previous frame, bucketed. W/N/NE/P say which exist; rows are split into
// first columns, interior and last columns so that the inner loop has no edge tests.
template <bool W, bool N, bool NE, bool P>
inline unsigned contextOf(const uint16_t* cur, const uint16_t* prev, size_t j, const Geometry& g) {
  unsigned s = 0;
  if constexpr (W) s += 2 * tokMag(cur[j - g.chans]);
  if constexpr (N) {
    s += tokMag(cur[j - g.rowLen]);
    s += tokMag(NE ? cur[j - g.rowLen + g.chans] : cur[j - g.rowLen]);
  }
  if constexpr (P) s += tokMag(prev[j]);
  return ctxBucket(s);
}

// Calls f(j, ctx) for every element of row y, in order; f may write cur[j] (the decoder does).
template <bool N, bool P, class F>
inline void forEachContext(const uint16_t* cur, const uint16_t* prev, size_t base, const Geometry& g, F&& f) {
  const size_t c = g.chans, len = g.rowLen;
  const size_t firstEnd = c < len ? c : len;
  const size_t interiorEnd = len >= 2 * c ? len - c : firstEnd;
  size_t col = 0;
  if (len > c) {
    for (; col < firstEnd; col++) f(base + col, contextOf<false, N, true, P>(cur, prev, base + col, g));
    for (; col < interiorEnd; col++) f(base + col, contextOf<true, N, true, P>(cur, prev, base + col, g));
    for (; col < len; col++) f(base + col, contextOf<true, N, false, P>(cur, prev, base + col, g));
  } else {
    for (; col < len; col++) f(base + col, contextOf<false, N, false, P>(cur, prev, base + col, g));
  }
}

template <class F>
inline void forEachRowContext(const uint16_t* cur, const uint16_t* prev, size_t y, const Geometry& g, F&& f) {
  const size_t base = y * g.rowLen;
  if (y == 0) {
    if (prev) forEachContext<false, true>(cur, prev, base, g, f);
    else forEachContext<false, false>(cur, prev, base, g, f);
  } else {
    if (prev) forEachContext<true, true>(cur, prev, base, g, f);
    else forEachContext<true, false>(cur, prev, base, g, f);
  }
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
  __attribute__((always_inline)) unsigned next(unsigned ctx) {
    uint32_t& x = state_[parity_];
    parity_ ^= 1;
    const Slot s = table_[(size_t(ctx) << kScaleBits) | (x & (kScale - 1))];
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
  std::vector<Slot> table_;  // kContexts × kScale slots
  uint32_t state_[2];
  unsigned parity_ = 0;
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace tezip
