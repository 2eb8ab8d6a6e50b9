#include "rans_rows.h"

#include <cstring>

#include "../core/cpu.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tezip {
namespace {
const BucketTable<kRowContexts> kRowBucketTable;  // (no cap: every sum's bucket is at most 23)
}  // namespace

void rowContextSums(const uint8_t* m, const uint8_t* mprev, size_t y, const Geometry& g, uint16_t* sums) {
  const size_t R = g.rowLen, C = g.chans;
  if (y > 0) {
    const uint8_t* n = m + (y - 1) * R;
    if (R > C) {  // at least two columns
      for (size_t j = 0; j < C; j++) sums[j] = uint16_t(3 * n[j] + n[j + C]);  // N stands in for NW
      for (size_t j = C; j < R - C; j++) sums[j] = uint16_t(2 * n[j] + n[j + C] + n[j - C]);
      for (size_t j = R - C; j < R; j++) sums[j] = uint16_t(3 * n[j] + n[j - C]);  // and for NE
    } else {
      for (size_t j = 0; j < R; j++) sums[j] = uint16_t(4 * n[j]);
    }
    if (y > 1) {
      const uint8_t* nn = n - R;
      for (size_t j = 0; j < R; j++) sums[j] = uint16_t(sums[j] + nn[j]);
    }
  } else {
    std::memset(sums, 0, R * sizeof(uint16_t));
  }
  if (mprev) {
    const uint8_t* p = mprev + y * R;
    for (size_t j = 0; j < R; j++) sums[j] = uint16_t(sums[j] + p[j]);
  }
}

void computeRowContexts(const uint16_t* tok, size_t frames, const Geometry& g, uint8_t* ctx) {
  std::vector<uint16_t> sums(g.rowLen);
  forEachFrameMagnitudes(tok, frames, g, [&](size_t t, const uint8_t* cur, const uint8_t* prev) {
    for (size_t y = 0; y < g.rows; y++) {
      rowContextSums(cur, prev, y, g, sums.data());
      uint8_t* c = ctx + t * g.frameLen() + y * g.rowLen;
      for (size_t j = 0; j < g.rowLen; j++) c[j] = kRowBucketTable.b[sums[j]];
    }
  });
}

void ransEncodeRows(const uint16_t* tok, const uint8_t* ctx, size_t n, size_t rowLen, unsigned lanes,
                    const RowHistograms& h, ByteWriter& out) {
  if (!validRowLanes(lanes)) throw Error(ErrorCode::Internal, "bad rANS lane count");
  out.u8(uint8_t(lanes));
  std::vector<uint16_t> freq(size_t(kMaxContexts) * kAlphabet);
  for (unsigned c = 0; c < kRowContexts; c++) normalizeFrequencies(h.count[c], freq.data() + size_t(c) * kAlphabet);
  writeFrequencyTables(freq.data(), kRowContexts, 4, out);
  ransEncodeLanes(tok, ctx, n, freq.data(), lanes, rowLen, out);
}

RowRansDecoder::RowRansDecoder(ByteReader& in) : off_(kRowSums) {
  lanes_ = in.u8();
  if (!validRowLanes(lanes_)) throw Error(ErrorCode::Corrupt, "bad rANS lane count");
  simd_ = cpu().avx2;
  uint32_t mask = 0;
  for (int b = 0; b < 4; b++) mask |= uint32_t(in.u8()) << (8 * b);
  if (mask >> kRowContexts) throw Error(ErrorCode::Corrupt, "bad frequency table mask");
  uint32_t block[kRowContexts];
  uint32_t blocks = 0;
  for (unsigned c = 0; c < kRowContexts; c++)
    if (mask & (1u << c)) block[c] = blocks++;
  for (unsigned c = 0; c < kRowContexts; c++)  // absent contexts share the invalid block, the last one
    if (!(mask & (1u << c))) block[c] = blocks;
  table_.resize(size_t(blocks + 1) * kScale);
  for (unsigned c = 0; c < kRowContexts; c++)
    if (mask & (1u << c)) readFrequencyTable(in, table_.data() + size_t(block[c]) * kScale);
  std::fill(table_.begin() + ptrdiff_t(size_t(blocks) * kScale), table_.end(), kInvalidSlot);
  for (unsigned c = 0; c < kRowContexts; c++) ctxOff_[c] = block[c] << kScaleBits;
  for (size_t s = 0; s < kRowSums; s++) off_[s] = ctxOff_[kRowBucketTable.b[s]];
  const uint64_t len = in.varint();
  if (len < 4 * lanes_) throw Error(ErrorCode::Corrupt, "entropy-coded stream too short");
  const uint8_t* p = in.take(size_t(len));
  for (unsigned k = 0; k < lanes_; k++) {
    const uint8_t* b = p + 4 * k;
    state_[k] = uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
    if (state_[k] < kRansL) throw Error(ErrorCode::Corrupt, "bad entropy coder state");
  }
  p_ = p + 4 * lanes_;
  end_ = p + len;
}

namespace {

#if defined(__x86_64__)
// For each 8-bit mask of the lanes that renormalise: lane k takes the (number of set bits below k)-th of the
// next eight stream words, the order in which the scalar decoder reads them.
struct WordPermutations {
  alignas(32) uint32_t idx[256][8];
  WordPermutations() {
    for (unsigned m = 0; m < 256; m++) {
      unsigned k = 0;
      for (unsigned lane = 0; lane < 8; lane++) idx[m][lane] = (m >> lane) & 1u ? k++ : 0;
    }
  }
};
const WordPermutations kWordPerm;

// The first groups·8 elements of a row, G vectors of eight states each (lanes = 8·G; group g uses vector
// g mod G). The stream must hold 16 bytes past every group's read position: the caller checks 2·n + 16.
// Returns the OR of (symbol + 255) of all.
// The context of a sum is computed, not looked up (a gather costs as much as the rest of a step): for
// s >= 8, the bucket 8 + 2·(g − 3) + bit (g − 1) of s is (the bits of float(s)) >> 22, less 252 (exponent
// 127 + g, then the mantissa's top bit); the context's block offset then comes from three 8-entry
// permutations (offs: 24 offsets).
template <unsigned G>
__attribute__((target("avx2,popcnt"))) unsigned decodeLanesAvx2(const uint32_t* T, const uint32_t* offs,
                                                                 const uint16_t* sums, size_t groups, uint16_t* tok,
                                                                 uint32_t* state, const uint8_t*& pp) {
  const __m256i off0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offs));
  const __m256i off1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offs + 8));
  const __m256i off2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(offs + 16));
  const __m256i c7 = _mm256_set1_epi32(7), c15 = _mm256_set1_epi32(15), c252 = _mm256_set1_epi32(252);
  __m256i x[G];
  for (unsigned v = 0; v < G; v++) x[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(state + 8 * v));
  const __m256i slotMask = _mm256_set1_epi32(kScale - 1), m9 = _mm256_set1_epi32(0x1ff);
  const __m256i m12 = _mm256_set1_epi32(0xfff), below = _mm256_set1_epi32(kRansL - 1), c255 = _mm256_set1_epi32(255);
  __m256i bad = _mm256_setzero_si256();
  const uint8_t* p = pp;
  // One step of the eight lanes of vector V for elements J … J + 7 (group J / 8 of the row). A macro: a
  // lambda would not carry this function's target("avx2").
#define TEZIP_AVX2_STEP(V, J)                                                                                   \
  {                                                                                                             \
    const unsigned v_ = (V);                                                                                    \
    const size_t j_ = (J);                                                                                      \
    const __m256i s = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sums + j_)));      \
    __m256i bk = _mm256_sub_epi32(_mm256_srli_epi32(_mm256_castps_si256(_mm256_cvtepi32_ps(s)), 22), c252);     \
    bk = _mm256_blendv_epi8(bk, s, _mm256_cmpgt_epi32(_mm256_set1_epi32(8), s));  /* s < 8: the bucket is s */  \
    __m256i o = _mm256_permutevar8x32_epi32(off0, bk);                                                          \
    o = _mm256_blendv_epi8(o, _mm256_permutevar8x32_epi32(off1, bk), _mm256_cmpgt_epi32(bk, c7));               \
    o = _mm256_blendv_epi8(o, _mm256_permutevar8x32_epi32(off2, bk), _mm256_cmpgt_epi32(bk, c15));              \
    const __m256i slot = _mm256_and_si256(x[v_], slotMask);                                                     \
    const __m256i e = _mm256_i32gather_epi32(reinterpret_cast<const int*>(T), _mm256_add_epi32(o, slot), 4);    \
    const __m256i sym = _mm256_and_si256(e, m9);                                                                \
    const __m256i f = _mm256_and_si256(_mm256_srli_epi32(e, 9), m12);                                           \
    __m256i xs = _mm256_mullo_epi32(f, _mm256_srli_epi32(x[v_], kScaleBits));                                   \
    xs = _mm256_add_epi32(xs, _mm256_sub_epi32(slot, _mm256_srli_epi32(e, 21)));                                \
    const __m256i need = _mm256_cmpeq_epi32(_mm256_min_epu32(xs, below), xs);  /* xs < 2^16 */                  \
    const unsigned mask = unsigned(_mm256_movemask_ps(_mm256_castsi256_ps(need)));                              \
    const __m256i words = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));          \
    const __m256i w = _mm256_permutevar8x32_epi32(                                                              \
        words, _mm256_load_si256(reinterpret_cast<const __m256i*>(kWordPerm.idx[mask])));                       \
    x[v_] = _mm256_blendv_epi8(xs, _mm256_or_si256(_mm256_slli_epi32(xs, 16), w), need);                        \
    p += 2 * unsigned(__builtin_popcount(mask));                                                                \
    bad = _mm256_or_si256(bad, _mm256_add_epi32(sym, c255));                                                    \
    const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(sym), _mm256_extracti128_si256(sym, 1));     \
    _mm_storeu_si128(reinterpret_cast<__m128i*>(tok + j_), packed);                                             \
  }
  const size_t rounds = groups / G;
  for (size_t r = 0; r < rounds; r++) {
#pragma GCC unroll 4
    for (unsigned v = 0; v < G; v++) TEZIP_AVX2_STEP(v, (r * G + v) * 8)
  }
  for (size_t g = rounds * G; g < groups; g++) TEZIP_AVX2_STEP(unsigned(g % G), g * 8)  // the last < G groups
#undef TEZIP_AVX2_STEP
  for (unsigned v = 0; v < G; v++) _mm256_store_si256(reinterpret_cast<__m256i*>(state + 8 * v), x[v]);
  pp = p;
  alignas(32) uint32_t b[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(b), bad);
  return b[0] | b[1] | b[2] | b[3] | b[4] | b[5] | b[6] | b[7];
}
#endif

}  // namespace

void RowRansDecoder::decodeRow(const uint16_t* sums, size_t n, uint16_t* tok) {
  size_t j = 0;
#if defined(__x86_64__)
  const size_t groups = n / 8;
  if (simd_ && groups && size_t(end_ - p_) >= 2 * n + 16) {
    unsigned bad = 0;
    switch (lanes_) {
      case 8: bad = decodeLanesAvx2<1>(table_.data(), ctxOff_, sums, groups, tok, state_, p_); break;
      case 16: bad = decodeLanesAvx2<2>(table_.data(), ctxOff_, sums, groups, tok, state_, p_); break;
      default: bad = decodeLanesAvx2<4>(table_.data(), ctxOff_, sums, groups, tok, state_, p_); break;
    }
    if (bad & 0x200u) throw Error(ErrorCode::Corrupt, "entropy-coded stream is corrupt");
    j = groups * 8;
  }
#endif
  decodeScalar(sums, j, n, tok);
}

void RowRansDecoder::decodeScalar(const uint16_t* sums, size_t j, size_t n, uint16_t* tok) {
  const uint32_t* T = table_.data();
  const uint32_t* off = off_.data();
  const uint32_t laneMask = lanes_ - 1;
  const uint8_t* p = p_;
  unsigned bad = 0;  // bit 9 set once any symbol was >= kAlphabet (sym + 255 >= 512)
  if (size_t(end_ - p) >= 2 * (n - j)) {
    // Every step has its two stream bytes: renormalise without a branch (the read is harmless when unused).
    for (; j < n; j++) {
      uint32_t& s = state_[j & laneMask];
      uint32_t st = s;
      const unsigned sym = ransStep(T + off[sums[j]], st);
      const uint32_t w = uint32_t(p[0]) | uint32_t(p[1]) << 8;
      const bool r = st < kRansL;
      s = r ? (st << 16) | w : st;
      p += r ? 2 : 0;
      tok[j] = uint16_t(sym);
      bad |= sym + 255u;
    }
  } else {
    for (; j < n; j++) {
      uint32_t& s = state_[j & laneMask];
      const unsigned sym = ransStep(T + off[sums[j]], s);
      if (s < kRansL) {
        if (end_ - p < 2) throw Error(ErrorCode::Corrupt, "entropy-coded stream ends early");
        s = (s << 16) | uint32_t(p[0]) | uint32_t(p[1]) << 8;
        p += 2;
      }
      tok[j] = uint16_t(sym);
      bad |= sym + 255u;
    }
  }
  p_ = p;
  if (bad & 0x200u) throw Error(ErrorCode::Corrupt, "entropy-coded stream is corrupt");
}

void RowRansDecoder::finish() const {
  for (unsigned k = 0; k < lanes_; k++)
    if (state_[k] != kRansL) throw Error(ErrorCode::Corrupt, "entropy-coded stream does not end where it should");
  if (p_ != end_) throw Error(ErrorCode::Corrupt, "entropy-coded stream does not end where it should");
}

}  // namespace tezip
