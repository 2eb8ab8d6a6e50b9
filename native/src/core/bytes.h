// Little-endian byte writer and a bounds-checked reader: every read from untrusted bytes goes through here.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

#include "tezip/codec.h"

namespace tezip {

class ByteWriter {
 public:
  std::vector<uint8_t>& buf;
  explicit ByteWriter(std::vector<uint8_t>& b) : buf(b) {}
  void u8(uint8_t v) { buf.push_back(v); }
  template <class U>
  void le(U v) {
    for (size_t i = 0; i < sizeof(U); i++) buf.push_back(uint8_t(uint64_t(v) >> (8 * i)));
  }
  void f64(double v) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    le<uint64_t>(u);
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      buf.push_back(uint8_t(v | 0x80));
      v >>= 7;
    }
    buf.push_back(uint8_t(v));
  }
  void bytes(const uint8_t* p, size_t n) { buf.insert(buf.end(), p, p + n); }
};

class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  size_t left() const { return size_t(end_ - p_); }
  const uint8_t* pos() const { return p_; }
  void need(size_t n) const {
    if (left() < n) throw Error(ErrorCode::Truncated, "chunk payload ends early");
  }
  uint8_t u8() {
    need(1);
    return *p_++;
  }
  template <class U>
  U le() {
    need(sizeof(U));
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(U); i++) v |= uint64_t(p_[i]) << (8 * i);
    p_ += sizeof(U);
    return U(v);
  }
  double f64() {
    uint64_t u = le<uint64_t>();
    double d;
    std::memcpy(&d, &u, 8);
    return d;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8();
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error(ErrorCode::Corrupt, "malformed varint in chunk payload");
  }
  const uint8_t* take(size_t n) {
    need(n);
    const uint8_t* q = p_;
    p_ += n;
    return q;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace tezip
