// Context-adaptive static rANS over hybrid tokens. Contexts come from the tokens of already-coded
// neighbours (previous row, two columns back, same pixel in the previous frame), so the decoder derives
// them before it reconstructs any value. Two interleaved 32-bit states, 16-bit renormalisation, 11-bit
// probabilities; one frequency table per context, stored in the chunk. This is chunk method 1's coder; the
// table and stream helpers below also serve method 3's (rans_rows.h).
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "../core/bytes.h"
#include "tokens.h"

namespace tezip {

constexpr unsigned kContexts = 16;      // method 1
constexpr unsigned kMaxContexts = 24;  // the most any method uses (method 3)
constexpr unsigned kScaleBits = 11;
constexpr uint32_t kScale = 1u << kScaleBits;
constexpr uint32_t kRansL = 1u << 16;  // state in [2^16, 2^32), renormalised 16 bits at a time

struct Geometry {  // one frame, channels interleaved: index = (y*W + x)*C + c
  size_t rowLen;   // W*C
  size_t chans;    // C
  size_t rows;     // H
  size_t frameLen() const { return rowLen * rows; }
};

// The bucket of a context sum s (<= 6·255): s when s < 8, else 8 + 2·(g − 3) + bit (g − 1) of s with
// g = floor(log2 s), capped at NC − 1 (NC: the method's context count; 24 needs no cap).
template <unsigned NC>
struct BucketTable {
  uint8_t b[6 * 256];
  BucketTable() {
    for (unsigned s = 0; s < sizeof(b); s++) {
      unsigned v = s;
      if (v >= 8) {
        unsigned lg = 31u - unsigned(__builtin_clz(v));
        v = 8 + 2 * (lg - 3) + ((v >> (lg - 1)) & 1u);
      }
      b[s] = uint8_t(v < NC ? v : NC - 1);
    }
  }
};
extern const BucketTable<kContexts> kBuckets;  // method 1's

// One rANS decoding step of state st against a context's kScale slots (symbol | frequency << 9 |
// start << 21, see readFrequencyTable), before renormalisation; returns the symbol (511 for an invalid slot).
__attribute__((always_inline)) inline unsigned ransStep(const uint32_t* slots, uint32_t& st) {
  const uint32_t e = slots[st & (kScale - 1)];
  st = ((e >> 9) & 0xfffu) * (st >> kScaleBits) + (st & (kScale - 1)) - (e >> 21);
  return e & 0x1ffu;
}

// A token's magnitude for context modelling: 0 for escape and for a zero value, else token - 1 (<= 255).
inline uint8_t tokMag(uint16_t t) { return uint8_t(t ? t - 1u : 0u); }

// Context of element j of a frame from the magnitudes of its coded neighbours:
//   s = 2·north + north-east + north-west + west-of-west + previous frame, bucketed (docs/FORMAT.md).
// The direct west neighbour is left out on purpose: without it the context of an element does not wait
// for the symbol just before it, so the decoder's two rANS states run as independent chains (about twice
// the speed, for ~1% of size). X1 / X2: the element has 1 / 2 columns to its west; NE: one to its east.
template <bool X1, bool X2, bool NE, bool N, bool P>
__attribute__((always_inline)) inline unsigned contextOf(const uint8_t* cur, const uint8_t* prev, size_t j,
                                                         const Geometry& g) {
  unsigned s = 0;
  if constexpr (N) {
    const unsigned n = cur[j - g.rowLen];
    s += 2 * n + (NE ? cur[j - g.rowLen + g.chans] : n) + (X1 ? cur[j - g.rowLen - g.chans] : n);
  }
  if constexpr (X2) s += cur[j - 2 * g.chans];
  if constexpr (P) s += prev[j];
  return kBuckets.b[s];
}

// Calls f(j, ctx) for every element of the row starting at `base`, in order (f may write cur[j]).
template <bool N, bool P, class F>
__attribute__((always_inline)) inline void forEachContext(const uint8_t* cur, const uint8_t* prev, size_t base,
                                                          const Geometry& g, F& f) {
  const size_t c = g.chans, len = g.rowLen;
  size_t j = base;
  if (len >= 4 * c) {  // columns: 0 | 1 | 2 .. W-2 | W-1
    for (; j < base + c; j++) f(j, contextOf<false, false, true, N, P>(cur, prev, j, g));
    for (; j < base + 2 * c; j++) f(j, contextOf<true, false, true, N, P>(cur, prev, j, g));
    for (; j < base + len - c; j++) f(j, contextOf<true, true, true, N, P>(cur, prev, j, g));
    for (; j < base + len; j++) f(j, contextOf<true, true, false, N, P>(cur, prev, j, g));
    return;
  }
  for (; j < base + len; j++) {  // narrow rows (width < 4): the same rule, edges tested per element
    const size_t col = (j - base) / c, w = len / c;
    const bool x1 = col >= 1, x2 = col >= 2, ne = col + 1 < w;
    unsigned s = 0;
    if (N) {
      const unsigned n = cur[j - len];
      s += 2 * n + (ne ? cur[j - len + c] : n) + (x1 ? cur[j - len - c] : n);
    }
    if (x2) s += cur[j - 2 * c];
    if (P) s += prev[j];
    f(j, kBuckets.b[s]);
  }
}

template <class F>
__attribute__((always_inline)) inline void forEachFrameContext(const uint8_t* cur, const uint8_t* prev, const Geometry& g, F& f) {
  if (prev) {
    forEachContext<false, true>(cur, prev, 0, g, f);
    for (size_t y = 1; y < g.rows; y++) forEachContext<true, true>(cur, prev, y * g.rowLen, g, f);
  } else {
    forEachContext<false, false>(cur, prev, 0, g, f);
    for (size_t y = 1; y < g.rows; y++) forEachContext<true, false>(cur, prev, y * g.rowLen, g, f);
  }
}

// One-channel rows (width >= 4): the part of every context in row `y` that comes from the row above and the
// previous frame, 2·N + NE + NW + P with the edge rules of contextOf, for the whole row at once (a loop
// that vectorises). The context of column x is then kBuckets.b[part[x] + (x >= 2 ? m[x − 2] : 0)].
inline void rowContextParts(const uint8_t* m, const uint8_t* mprev, size_t y, size_t W, uint16_t* part) {
  if (y > 0) {
    const uint8_t* n = m - W;
    part[0] = uint16_t(3 * n[0] + n[1]);  // at x = 0, N stands in for NW
    for (size_t x = 1; x + 1 < W; x++) part[x] = uint16_t(2 * n[x] + n[x + 1] + n[x - 1]);
    part[W - 1] = uint16_t(3 * n[W - 1] + n[W - 2]);  // at the last column, N stands in for NE
  } else {
    for (size_t x = 0; x < W; x++) part[x] = 0;
  }
  if (mprev)
    for (size_t x = 0; x < W; x++) part[x] = uint16_t(part[x] + mprev[x]);
}

// Fills ctx[] for a whole chunk of tokens (frames × frameLen).
void computeContexts(const uint16_t* tok, size_t frames, const Geometry& g, uint8_t* ctx);

// For each frame t of a chunk's tokens: f(t, cur, prev), cur holding the token magnitudes of frame t and prev
// those of frame t − 1 (null for t = 0). The encoders' context passes of both methods.
template <class F>
void forEachFrameMagnitudes(const uint16_t* tok, size_t frames, const Geometry& g, F&& f) {
  const size_t fl = g.frameLen();
  std::vector<uint8_t> ma(fl), mb(fl);
  uint8_t* cur = ma.data();
  uint8_t* prev = mb.data();
  for (size_t t = 0; t < frames; t++) {
    if (t) std::swap(cur, prev);
    const uint16_t* tk = tok + t * fl;
    for (size_t j = 0; j < fl; j++) cur[j] = tokMag(tk[j]);
    f(t, cur, t ? prev : nullptr);
  }
}

double tableCostBits(const uint32_t* count, unsigned contexts);  // count: contexts × kAlphabet

// Token counts per context, for NC contexts (16 for method 1, 24 for method 3).
template <unsigned NC>
struct ContextHistograms {
  uint32_t count[NC][kAlphabet] = {};
  void add(const uint16_t* tok, const uint8_t* ctx, size_t n) {
    for (size_t i = 0; i < n; i++) count[ctx[i]][tok[i]]++;
  }
  double costBits() const { return tableCostBits(&count[0][0], NC); }  // coded size estimate, tables included
};
using Histograms = ContextHistograms<kContexts>;

// The parts both coded methods share (docs/FORMAT.md, "tables"): frequencies scaled to kScale, the tables'
// serialisation (a context mask of `maskBytes` bytes, then each present context's symbol/frequency list),
// and the decoder's slot tables, symbol | frequency << 9 | start << 21 for each of the kScale slots.
void normalizeFrequencies(const uint32_t* count, uint16_t* freq);
// freq: contexts × kAlphabet (normalised).
void writeFrequencyTables(const uint16_t* freq, unsigned contexts, unsigned maskBytes, ByteWriter& out);
// Reads one present context's list and fills its kScale slots.
void readFrequencyTable(ByteReader& in, uint32_t* slots);
constexpr uint32_t kInvalidSlot = 0x1ffu | (1u << 9);  // symbol 511 (>= kAlphabet): reaching it means corruption

// Encodes tok[i] under ctx[i] (freq: kMaxContexts × kAlphabet, normalised) with `lanes` interleaved states
// (2, 8, 16 or 32): element i uses state (i mod rowLen) mod lanes, or i mod lanes when rowLen is 0. Writes the
// varint length and the stream, which starts with the `lanes` final states as little-endian u32.
void ransEncodeLanes(const uint16_t* tok, const uint8_t* ctx, size_t n, const uint16_t* freq, unsigned lanes,
                     size_t rowLen, ByteWriter& out);

// Writes tables and the rANS stream for tok[0..n) under ctx[0..n) (method 1: two states, element i using i mod 2).
void ransEncode(const uint16_t* tok, const uint8_t* ctx, size_t n, const Histograms& h, ByteWriter& out);

class RansDecoder {
 public:
  explicit RansDecoder(ByteReader& in);  // reads tables and takes the stream
  // Decoding state held in locals by hot loops (a member accessed through `this` would be reloaded after
  // every byte store, since byte stores may alias anything): take a cursor, decode, put it back.
  struct Cursor {
    uint32_t a, b;  // a: the state of the next element, b: of the one after (the two alternate)
    const uint8_t* p;
    const uint8_t* end;
    const uint32_t* table;
    __attribute__((always_inline)) unsigned next(unsigned ctx) { return step<true>(ctx); }
    // The same step for callers that have checked that two stream bytes remain for every step they take:
    // no bounds test, one register fewer in the hot loop.
    __attribute__((always_inline)) unsigned nextRoomy(unsigned ctx) { return step<false>(ctx); }
    template <bool Checked>
    __attribute__((always_inline)) unsigned step(unsigned ctx) {
      uint32_t st = a;
      a = b;
      const unsigned sym = ransStep(table + (size_t(ctx) << kScaleBits), st);
      if (st < kRansL) {
        if (Checked && end - p < 2) throw Error(ErrorCode::Corrupt, "entropy-coded stream ends early");
        st = (st << 16) | uint32_t(p[0]) | uint32_t(p[1]) << 8;
        p += 2;
      }
      b = st;
      return sym;
    }
  };
  Cursor cursor() const { return Cursor{state_[0], state_[1], p_, end_, table_.data()}; }
  void commit(const Cursor& c) {
    state_[0] = c.a;
    state_[1] = c.b;
    p_ = c.p;
  }
  void finish() const;  // the stream must end exactly where the encoder started

 private:
  // kContexts × kScale slots, each symbol (9 bits) | frequency (12 bits) << 9 | start (11 bits) << 21:
  // 128 KiB, so the table lookups on the decoder's critical path mostly hit L1/L2.
  std::vector<uint32_t> table_;
  uint32_t state_[2];  // [0]: the next element's state
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace tezip
