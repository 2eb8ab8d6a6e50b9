// Context-adaptive static rANS over hybrid tokens. Contexts come from the tokens of already-coded
// neighbours (west, north, north-east, same pixel in the previous frame), so the decoder derives them
// before it reconstructs any value. Two interleaved 32-bit states, 16-bit renormalisation, 12-bit
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
constexpr uint32_t kRansL = 1u << 16;  // state in [2^16, 2^32), renormalised 16 bits at a time

struct Geometry {  // one frame, channels interleaved: index = (y*W + x)*C + c
  size_t rowLen;   // W*C
  size_t chans;    // C
  size_t rows;     // H
  size_t frameLen() const { return rowLen * rows; }
};

struct BucketTable {
  uint8_t b[5 * 256];  // s <= 2·255 + 3·255
  BucketTable() {
    for (unsigned s = 0; s < sizeof(b); s++) {
      unsigned v = s;
      if (v >= 8) {
        unsigned lg = 31u - unsigned(__builtin_clz(v));
        v = 8 + 2 * (lg - 3) + ((v >> (lg - 1)) & 1u);
      }
      b[s] = uint8_t(v < kContexts ? v : kContexts - 1);
    }
  }
};
extern const BucketTable kBuckets;

// A token's magnitude for context modelling: 0 for escape and for a zero value, else token - 1 (<= 255).
inline uint8_t tokMag(uint16_t t) { return uint8_t(t ? t - 1u : 0u); }

// Context of element j of a frame from the magnitudes of its coded neighbours: 2·west + north + north-east
// (north again at the last column) + same place in the previous frame, bucketed (docs/FORMAT.md). W/N/NE/P
// say which exist; rows are split into first columns, interior and last columns so inner loops have no
// edge tests.
template <bool W, bool N, bool NE, bool P>
__attribute__((always_inline)) inline unsigned contextOf(const uint8_t* cur, const uint8_t* prev, size_t j,
                                                         const Geometry& g) {
  unsigned s = 0;
  if constexpr (W) s += 2u * cur[j - g.chans];
  if constexpr (N) s += unsigned(cur[j - g.rowLen]) + (NE ? cur[j - g.rowLen + g.chans] : cur[j - g.rowLen]);
  if constexpr (P) s += prev[j];
  return kBuckets.b[s];
}

// Calls f(j, ctx) for every element of row y in order (f may write cur[j]: the decoder does).
template <bool N, bool P, class F>
__attribute__((always_inline)) inline void forEachContext(const uint8_t* cur, const uint8_t* prev, size_t base,
                                                          const Geometry& g, F& f) {
  const size_t c = g.chans, len = g.rowLen;
  if (len > c) {
    const size_t interiorEnd = len >= 2 * c ? len - c : c;
    size_t j = base;
    for (; j < base + c; j++) f(j, contextOf<false, N, true, P>(cur, prev, j, g));
    for (; j < base + interiorEnd; j++) f(j, contextOf<true, N, true, P>(cur, prev, j, g));
    for (; j < base + len; j++) f(j, contextOf<true, N, false, P>(cur, prev, j, g));
  } else {
    for (size_t j = base; j < base + len; j++) f(j, contextOf<false, N, false, P>(cur, prev, j, g));
  }
}

template <class F>
inline void forEachFrameContext(const uint8_t* cur, const uint8_t* prev, const Geometry& g, F& f) {
  if (prev) {
    forEachContext<false, true>(cur, prev, 0, g, f);
    for (size_t y = 1; y < g.rows; y++) forEachContext<true, true>(cur, prev, y * g.rowLen, g, f);
  } else {
    forEachContext<false, false>(cur, prev, 0, g, f);
    for (size_t y = 1; y < g.rows; y++) forEachContext<true, false>(cur, prev, y * g.rowLen, g, f);
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
    if (x < kRansL) {
      if (end_ - p_ < 2) throw Error(ErrorCode::Corrupt, "entropy-coded stream ends early");
      x = (x << 16) | uint32_t(p_[0]) | uint32_t(p_[1]) << 8;
      p_ += 2;
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
