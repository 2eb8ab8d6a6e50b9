// Hybrid-integer tokens: a value v >= 0 becomes a token (entropy coded) plus raw extra bits.
// token 0 = escape (value stored raw elsewhere); v < 16 -> token v+1; otherwise, with n = floor(log2 v),
// token = 17 + 4(n-4) + (the two bits below the leading one), extra = the n-2 low bits.
#pragma once
#include <cstdint>
#include <vector>

#include "tezip/codec.h"

namespace tezip {

constexpr unsigned kEscToken = 0;
constexpr unsigned kAlphabet = 257;  // tokens 0..256

struct Token {
  uint16_t tok;
  uint8_t nextra;
  uint64_t extra;
};

inline Token tokenize(uint64_t v) {
  if (v < 16) return {uint16_t(v + 1), 0, 0};
  unsigned n = 63u - unsigned(__builtin_clzll(v));
  unsigned top2 = unsigned(v >> (n - 2)) & 3u;
  unsigned ne = n - 2;
  return {uint16_t(17 + 4 * (n - 4) + top2), uint8_t(ne), v & ((uint64_t(1) << ne) - 1)};
}

// Extra-bit count and high part of a (non-escape) token.
inline unsigned tokenExtraBits(unsigned tok) { return tok <= 16 ? 0 : ((tok - 17) >> 2) + 2; }
inline uint64_t tokenBase(unsigned tok) {
  if (tok <= 16) return tok - 1;
  unsigned n = ((tok - 17) >> 2) + 4;
  uint64_t top2 = (tok - 17) & 3u;
  return (uint64_t(4) | top2) << (n - 2);
}

inline uint64_t zigzag(int64_t v) { return (uint64_t(v) << 1) ^ uint64_t(v >> 63); }
inline int64_t unzigzag(uint64_t u) { return int64_t(u >> 1) ^ -int64_t(u & 1); }

class BitWriter {
 public:
  void put(uint64_t bits, unsigned n) {  // n <= 64
    if (n > 32) {
      put32(uint32_t(bits), 32);
      put32(uint32_t(bits >> 32), n - 32);
    } else if (n) {
      put32(uint32_t(bits), n);
    }
  }
  std::vector<uint8_t> finish() {
    while (fill_ > 0) {
      out_.push_back(uint8_t(acc_));
      acc_ >>= 8;
      fill_ = fill_ > 8 ? fill_ - 8 : 0;
    }
    return std::move(out_);
  }

 private:
  // fill_ < 32 on entry, so the accumulator never overflows; whole 32-bit words leave it at once (low byte
  // first, the order in which the reader takes them).
  void put32(uint32_t bits, unsigned n) {
    acc_ |= uint64_t(bits & (n == 32 ? 0xffffffffu : ((1u << n) - 1))) << fill_;
    fill_ += n;
    if (fill_ >= 32) {
      const size_t at = out_.size();
      out_.resize(at + 4);
      for (int k = 0; k < 4; k++) out_[at + k] = uint8_t(acc_ >> (8 * k));
      acc_ >>= 32;
      fill_ -= 32;
    }
  }
  std::vector<uint8_t> out_;
  uint64_t acc_ = 0;
  unsigned fill_ = 0;
};

class BitReader {
 public:
  BitReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  uint64_t get(unsigned n) {
    if (n > 32) {
      uint64_t lo = get32(32);
      return lo | (uint64_t(get32(n - 32)) << 32);
    }
    return n ? get32(n) : 0;
  }

 private:
  uint32_t get32(unsigned n) {
    if (fill_ < n) {
      if (end_ - p_ >= 8) {
        // Eight bytes at once, keeping the whole bytes that fit; the bits above them are those of the next
        // bytes, which the next refill ORs in again at the same places.
        uint64_t w = 0;
        for (int k = 0; k < 8; k++) w |= uint64_t(p_[k]) << (8 * k);  // one load on little-endian hosts
        acc_ |= w << fill_;
        const unsigned take = (63 - fill_) >> 3;
        p_ += take;
        fill_ += 8 * take;
      } else {
        while (fill_ < n) {
          if (p_ == end_) throw Error(ErrorCode::Corrupt, "extra-bits stream ends early");
          acc_ |= uint64_t(*p_++) << fill_;
          fill_ += 8;
        }
      }
    }
    uint32_t v = uint32_t(acc_ & ((uint64_t(1) << n) - 1));
    acc_ >>= n;
    fill_ -= n;
    return v;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t acc_ = 0;
  unsigned fill_ = 0;
};

}  // namespace tezip
