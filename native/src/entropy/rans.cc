#include "rans.h"

#include <algorithm>
#include <cmath>

namespace tezip {

// Scales counts to frequencies summing to kScale, every present symbol keeping at least 1.
void normalizeFrequencies(const uint32_t* count, uint16_t* freq) {
  uint64_t total = 0;
  for (unsigned s = 0; s < kAlphabet; s++) total += count[s];
  std::fill(freq, freq + kAlphabet, 0);
  if (!total) return;
  int64_t sum = 0;
  for (unsigned s = 0; s < kAlphabet; s++) {
    if (!count[s]) continue;
    uint64_t f = (uint64_t(count[s]) * kScale + total / 2) / total;
    freq[s] = uint16_t(std::max<uint64_t>(1, std::min<uint64_t>(f, kScale)));
    sum += freq[s];
  }
  int64_t diff = int64_t(kScale) - sum;
  while (diff != 0) {  // move the excess onto (or off) the largest frequencies
    unsigned best = 0;
    for (unsigned s = 1; s < kAlphabet; s++)
      if (freq[s] > freq[best]) best = s;
    if (diff > 0) {
      freq[best] = uint16_t(freq[best] + diff);
      diff = 0;
    } else {
      int64_t take = std::min<int64_t>(freq[best] - 1, -diff);
      if (take <= 0) break;  // cannot happen: at most kAlphabet < kScale symbols
      freq[best] = uint16_t(freq[best] - take);
      diff += take;
    }
  }
}

const BucketTable<kContexts> kBuckets;

void computeContexts(const uint16_t* tok, size_t frames, const Geometry& g, uint8_t* ctx) {
  std::vector<uint16_t> part(g.rowLen);
  forEachFrameMagnitudes(tok, frames, g, [&](size_t t, const uint8_t* cur, const uint8_t* prev) {
    uint8_t* c = ctx + t * g.frameLen();
    if (g.chans == 1 && g.rowLen >= 4) {  // every magnitude is known here: whole rows at a time
      const size_t W = g.rowLen;
      for (size_t y = 0; y < g.rows; y++) {
        const uint8_t* m = cur + y * W;
        rowContextParts(m, prev ? prev + y * W : nullptr, y, W, part.data());
        for (size_t x = 2; x < W; x++) part[x] = uint16_t(part[x] + m[x - 2]);
        for (size_t x = 0; x < W; x++) c[y * W + x] = kBuckets.b[part[x]];
      }
      return;
    }
    auto put = [c](size_t j, unsigned k) { c[j] = uint8_t(k); };
    forEachFrameContext(cur, prev, g, put);
  });
}

double tableCostBits(const uint32_t* count, unsigned contexts) {
  double bits = 0;
  uint16_t freq[kAlphabet];
  for (unsigned c = 0; c < contexts; c++) {
    const uint32_t* h = count + size_t(c) * kAlphabet;
    normalizeFrequencies(h, freq);
    unsigned used = 0;
    for (unsigned s = 0; s < kAlphabet; s++)
      if (h[s]) {
        bits += double(h[s]) * (kScaleBits - std::log2(double(freq[s])));
        used++;
      }
    bits += used * 16.0;
  }
  return bits;
}

void writeFrequencyTables(const uint16_t* freq, unsigned contexts, unsigned maskBytes, ByteWriter& out) {
  uint32_t mask = 0;
  for (unsigned c = 0; c < contexts; c++)
    for (unsigned s = 0; s < kAlphabet; s++)
      if (freq[size_t(c) * kAlphabet + s]) {
        mask |= 1u << c;
        break;
      }
  for (unsigned b = 0; b < maskBytes; b++) out.u8(uint8_t(mask >> (8 * b)));
  for (unsigned c = 0; c < contexts; c++) {
    if (!(mask & (1u << c))) continue;
    const uint16_t* f = freq + size_t(c) * kAlphabet;
    unsigned used = 0;
    for (unsigned s = 0; s < kAlphabet; s++) used += f[s] != 0;
    out.varint(used);
    unsigned last = 0;
    for (unsigned s = 0; s < kAlphabet; s++) {
      if (!f[s]) continue;
      out.varint(s - last);
      out.varint(f[s] - 1u);
      last = s;
    }
  }
}

void readFrequencyTable(ByteReader& in, uint32_t* tc) {
  const uint64_t used = in.varint();
  if (used == 0 || used > kAlphabet) throw Error(ErrorCode::Corrupt, "bad frequency table");
  uint64_t sym = 0, acc = 0;
  for (uint64_t k = 0; k < used; k++) {
    const uint64_t d = in.varint();
    if (k > 0 && d == 0) throw Error(ErrorCode::Corrupt, "bad frequency table");
    sym += d;
    const uint64_t f = in.varint() + 1;
    if (sym >= kAlphabet || f > kScale || acc + f > kScale) throw Error(ErrorCode::Corrupt, "bad frequency table");
    for (uint64_t j = 0; j < f; j++) tc[acc + j] = uint32_t(sym) | uint32_t(f) << 9 | uint32_t(acc) << 21;
    acc += f;
  }
  if (acc != kScale) throw Error(ErrorCode::Corrupt, "frequency table does not sum to scale");
}

void ransEncodeLanes(const uint16_t* tok, const uint8_t* ctx, size_t n, const uint16_t* freq, unsigned lanes,
                     size_t rowLen, ByteWriter& out) {
  constexpr unsigned kMaxLanes = 32;
  if (lanes == 0 || lanes > kMaxLanes || (lanes & (lanes - 1)) || (rowLen && n % rowLen))
    throw Error(ErrorCode::Internal, "bad rANS lane layout");
  const size_t laneMask = lanes - 1;
  // Per (context, symbol): frequency, cumulative start, and x / f and x % f through a multiply by a 64-bit
  // reciprocal (exact for x < 2^32, f <= 2^11): the division was the encoder's slowest step.
  struct Sym {
    uint64_t rcp;
    uint32_t freq, start;
  };
  std::vector<Sym> sym(size_t(kMaxContexts) * kAlphabet);
  for (size_t c = 0; c < kMaxContexts; c++) {
    uint32_t acc = 0;
    for (unsigned s = 0; s < kAlphabet; s++) {
      const size_t k = c * kAlphabet + s;
      sym[k] = Sym{freq[k] > 1 ? ~uint64_t(0) / freq[k] + 1 : 0, freq[k], acc};
      acc += freq[k];
    }
  }
  // At most 16 bits per symbol, plus the final states: written through a pointer, not push_back.
  std::vector<uint8_t> rev(2 * n + 4 * kMaxLanes);
  uint8_t* w = rev.data();
  uint32_t x[kMaxLanes];
  for (unsigned k = 0; k < lanes; k++) x[k] = kRansL;
  auto put = [&](uint32_t& st, size_t i) __attribute__((always_inline)) {
    const Sym& e = sym[size_t(ctx[i]) * kAlphabet + tok[i]];
    const uint32_t f = e.freq;
    if (__builtin_expect(f == 0, 0)) throw Error(ErrorCode::Internal, "rANS: symbol without frequency");
    const uint64_t xmax = (uint64_t(kRansL >> kScaleBits) << 16) * f;
    // Emit 16 bits when the state is too large for the symbol, without a branch (which the data makes
    // unpredictable): the two bytes are always written and kept only then. Read back as a little-endian word.
    const unsigned emit = st >= xmax;  // 0 or 1, used arithmetically: a select here became a branch
    w[0] = uint8_t(st >> 8);
    w[1] = uint8_t(st);
    w += emit << 1;
    st >>= emit << 4;
    const uint32_t q = f > 1 ? uint32_t((unsigned __int128)st * e.rcp >> 64) : st;
    st = (q << kScaleBits) + (st - q * f) + e.start;
  };
  if (rowLen) {
    for (size_t base = n; base > 0;) {
      base -= rowLen;
      for (size_t j = rowLen; j-- > 0;) put(x[j & laneMask], base + j);
    }
  } else {
    for (size_t i = n; i-- > 0;) put(x[i & laneMask], i);
  }
  for (unsigned k = lanes; k-- > 0;)
    for (int b = 3; b >= 0; b--) *w++ = uint8_t(x[k] >> (8 * b));
  rev.resize(size_t(w - rev.data()));
  std::reverse(rev.begin(), rev.end());
  out.varint(rev.size());
  out.bytes(rev.data(), rev.size());
}

void ransEncode(const uint16_t* tok, const uint8_t* ctx, size_t n, const Histograms& h, ByteWriter& out) {
  std::vector<uint16_t> freq(size_t(kMaxContexts) * kAlphabet);
  for (unsigned c = 0; c < kContexts; c++) normalizeFrequencies(h.count[c], freq.data() + size_t(c) * kAlphabet);
  writeFrequencyTables(freq.data(), kContexts, 2, out);
  ransEncodeLanes(tok, ctx, n, freq.data(), 2, 0, out);
}

RansDecoder::RansDecoder(ByteReader& in) {
  const uint16_t mask = in.le<uint16_t>();
  // Contexts absent from the mask get an all-invalid table: reaching one means the stream is corrupt.
  table_.assign(size_t(kContexts) * kScale, kInvalidSlot);
  for (unsigned c = 0; c < kContexts; c++)
    if (mask & (1u << c)) readFrequencyTable(in, table_.data() + size_t(c) * kScale);
  uint64_t len = in.varint();
  if (len < 8) throw Error(ErrorCode::Corrupt, "entropy-coded stream too short");
  const uint8_t* p = in.take(size_t(len));
  for (int k = 0; k < 2; k++) state_[k] = uint32_t(p[4 * k]) | uint32_t(p[4 * k + 1]) << 8 |
                                          uint32_t(p[4 * k + 2]) << 16 | uint32_t(p[4 * k + 3]) << 24;
  if (state_[0] < kRansL || state_[1] < kRansL) throw Error(ErrorCode::Corrupt, "bad entropy coder state");
  p_ = p + 8;
  end_ = p + len;
}

void RansDecoder::finish() const {
  if (state_[0] != kRansL || state_[1] != kRansL || p_ != end_)
    throw Error(ErrorCode::Corrupt, "entropy-coded stream does not end where it should");
}

}  // namespace tezip
