#include "rans.h"

#include <algorithm>
#include <cmath>

namespace tezip {
namespace {

// Scales counts to frequencies summing to kScale, every present symbol keeping at least 1.
void normalize(const uint32_t* count, uint16_t* freq) {
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

}  // namespace

const BucketTable kBuckets;

void computeContexts(const uint16_t* tok, size_t frames, const Geometry& g, uint8_t* ctx) {
  const size_t fl = g.frameLen();
  std::vector<uint8_t> ma(fl), mb(fl);
  uint8_t* cur = ma.data();
  uint8_t* prev = mb.data();
  for (size_t t = 0; t < frames; t++) {
    if (t) std::swap(cur, prev);
    const uint16_t* tk = tok + t * fl;
    for (size_t j = 0; j < fl; j++) cur[j] = tokMag(tk[j]);
    uint8_t* c = ctx + t * fl;
    if (g.chans == 1 && g.rowLen >= 4) {  // every magnitude is known here: whole rows at a time
      const size_t W = g.rowLen;
      std::vector<uint16_t> part(W);
      for (size_t y = 0; y < g.rows; y++) {
        const uint8_t* m = cur + y * W;
        rowContextParts(m, t ? prev + y * W : nullptr, y, W, part.data());
        for (size_t x = 2; x < W; x++) part[x] = uint16_t(part[x] + m[x - 2]);
        for (size_t x = 0; x < W; x++) c[y * W + x] = kBuckets.b[part[x]];
      }
      continue;
    }
    auto put = [c](size_t j, unsigned k) { c[j] = uint8_t(k); };
    forEachFrameContext(cur, t ? prev : nullptr, g, put);
  }
}

double Histograms::costBits() const {
  double bits = 0;
  uint16_t freq[kAlphabet];
  for (unsigned c = 0; c < kContexts; c++) {
    normalize(count[c], freq);
    unsigned used = 0;
    for (unsigned s = 0; s < kAlphabet; s++)
      if (count[c][s]) {
        bits += double(count[c][s]) * (kScaleBits - std::log2(double(freq[s])));
        used++;
      }
    bits += used * 16.0;
  }
  return bits;
}

void ransEncode(const uint16_t* tok, const uint8_t* ctx, size_t n, const Histograms& h, ByteWriter& out) {
  static_assert(kContexts <= 16, "context mask is 16 bits");
  uint16_t freq[kContexts][kAlphabet];
  uint16_t start[kContexts][kAlphabet];
  uint16_t mask = 0;
  for (unsigned c = 0; c < kContexts; c++) {
    normalize(h.count[c], freq[c]);
    uint32_t acc = 0;
    for (unsigned s = 0; s < kAlphabet; s++) {
      start[c][s] = uint16_t(acc);
      acc += freq[c][s];
    }
    if (acc) mask = uint16_t(mask | (1u << c));
  }
  out.le<uint16_t>(mask);
  for (unsigned c = 0; c < kContexts; c++) {
    if (!(mask & (1u << c))) continue;
    unsigned used = 0;
    for (unsigned s = 0; s < kAlphabet; s++) used += freq[c][s] != 0;
    out.varint(used);
    unsigned last = 0;
    for (unsigned s = 0; s < kAlphabet; s++) {
      if (!freq[c][s]) continue;
      out.varint(s - last);
      out.varint(freq[c][s] - 1u);
      last = s;
    }
  }
  // x / f and x % f through a multiply by a 64-bit reciprocal (exact for x < 2^32, f <= 2^11): the
  // division was the encoder's slowest step.
  uint64_t rcp[kContexts][kAlphabet];
  for (unsigned c = 0; c < kContexts; c++)
    for (unsigned s = 0; s < kAlphabet; s++)
      rcp[c][s] = freq[c][s] > 1 ? ~uint64_t(0) / freq[c][s] + 1 : 0;
  // At most 16 bits per symbol, plus the two final states: written through a pointer, not push_back.
  std::vector<uint8_t> rev(2 * n + 8);
  uint8_t* w = rev.data();
  uint32_t x[2] = {kRansL, kRansL};
  for (size_t i = n; i-- > 0;) {
    uint32_t& st = x[i & 1];
    const unsigned c = ctx[i], s = tok[i];
    const uint32_t f = freq[c][s];
    const uint64_t xmax = (uint64_t(kRansL >> kScaleBits) << 16) * f;
    if (st >= xmax) {  // emit 16 bits; they are read back as one little-endian word
      w[0] = uint8_t(st >> 8);
      w[1] = uint8_t(st);
      w += 2;
      st >>= 16;
    }
    const uint32_t q = f > 1 ? uint32_t((unsigned __int128)st * rcp[c][s] >> 64) : st;
    st = (q << kScaleBits) + (st - q * f) + start[c][s];
  }
  for (int k = 1; k >= 0; k--)
    for (int b = 3; b >= 0; b--) *w++ = uint8_t(x[k] >> (8 * b));
  rev.resize(size_t(w - rev.data()));
  std::reverse(rev.begin(), rev.end());
  out.varint(rev.size());
  out.bytes(rev.data(), rev.size());
}

RansDecoder::RansDecoder(ByteReader& in) {
  const uint16_t mask = in.le<uint16_t>();
  // Contexts absent from the mask get an all-invalid table: reaching one means the stream is corrupt.
  table_.assign(size_t(kContexts) * kScale, 0x1ffu | (1u << 9));  // symbol 511: invalid
  for (unsigned c = 0; c < kContexts; c++) {
    if (!(mask & (1u << c))) continue;
    uint64_t used = in.varint();
    if (used == 0 || used > kAlphabet) throw Error(ErrorCode::Corrupt, "bad frequency table");
    uint32_t* tc = table_.data() + size_t(c) * kScale;
    uint64_t sym = 0, acc = 0;
    for (uint64_t k = 0; k < used; k++) {
      uint64_t d = in.varint();
      if (k > 0 && d == 0) throw Error(ErrorCode::Corrupt, "bad frequency table");
      sym += d;
      uint64_t f = in.varint() + 1;
      if (sym >= kAlphabet || f > kScale || acc + f > kScale)
        throw Error(ErrorCode::Corrupt, "bad frequency table");
      for (uint64_t j = 0; j < f; j++)
        tc[acc + j] = uint32_t(sym) | uint32_t(f) << 9 | uint32_t(acc) << 21;
      acc += f;
    }
    if (acc != kScale) throw Error(ErrorCode::Corrupt, "frequency table does not sum to scale");
  }
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
