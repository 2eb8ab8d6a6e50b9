// Method 3's token coder, "row lanes" (docs/FORMAT.md): the tokens, tables and rANS step of method 1, with
// two changes that let a decoder run eight times as many symbols at once:
// - every context comes from the rows above and the previous frame only (2·N + NE + NW + NN + P), so a whole
//   row's contexts are computed before any of its symbols is decoded, in a loop that vectorises;
// - 8, 16 or 32 interleaved states ("lanes", recorded in the chunk), element j of a row using state
//   j mod lanes: the chains of dependent table lookups overlap, and with AVX2 eight states step at once
//   (one vector per eight lanes; 32 lanes keep four vectors' chains in flight).
// 24 contexts instead of 16: the sum's range (up to 6·255) is bucketed without a cap, which keeps large
// magnitudes (floats' residuals) apart.
#pragma once
#include <cstdint>
#include <vector>

#include "rans.h"

namespace tezip {

constexpr unsigned kRowContexts = 24;
constexpr unsigned kMaxRowLanes = 32;
// The lanes an encoder uses for a chunk of n elements: 32, or 8 for small chunks (each lane's final state
// costs 4 bytes).
inline unsigned rowLanesFor(size_t n) { return n >= (size_t(1) << 17) ? 32 : 8; }
inline bool validRowLanes(unsigned lanes) { return lanes == 8 || lanes == 16 || lanes == 32; }
constexpr size_t kRowSums = 6 * 255 + 1;  // context sums are 0 … 6·255
using RowHistograms = ContextHistograms<kRowContexts>;

// Row y of a frame: sums[j] = 2·m(N) + m(NE) + m(NW) when y > 0 (N standing in for a missing NE or NW at the
// row's ends) + m(NN) when y >= 2 + m(P) when mprev is given. m: the frame's magnitudes (rows above y filled
// in), mprev: the previous frame's. Whole rows at a time: the loops vectorise.
void rowContextSums(const uint8_t* m, const uint8_t* mprev, size_t y, const Geometry& g, uint16_t* sums);

// Fills ctx[] (buckets) for a whole chunk of tokens (frames × frameLen), as the decoder will see them.
void computeRowContexts(const uint16_t* tok, size_t frames, const Geometry& g, uint8_t* ctx);

// Writes the lane count (u8), the tables (u32 context mask) and the rANS stream of tok[0..n) under ctx[0..n).
void ransEncodeRows(const uint16_t* tok, const uint8_t* ctx, size_t n, size_t rowLen, unsigned lanes,
                    const RowHistograms& h, ByteWriter& out);

class RowRansDecoder {
 public:
  explicit RowRansDecoder(ByteReader& in);  // reads the lane count and tables, and takes the stream
  // Decodes the n tokens of one row whose context sums are sums[0..n) (rowContextSums); throws Corrupt.
  void decodeRow(const uint16_t* sums, size_t n, uint16_t* tok);
  void finish() const;  // the stream must end exactly where the encoder started

 private:
  void decodeScalar(const uint16_t* sums, size_t from, size_t n, uint16_t* tok);
  std::vector<uint32_t> table_;  // blocks of kScale slots (rans.h), the invalid block last
  std::vector<uint32_t> off_;    // kRowSums: a context sum -> the offset of its context's block in table_
  uint32_t ctxOff_[kRowContexts];  // a context -> the same offset
  unsigned lanes_;
  bool simd_;
  alignas(32) uint32_t state_[kMaxRowLanes];
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace tezip
