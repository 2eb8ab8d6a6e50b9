// Shared by the libFuzzer targets: how the first fuzz bytes become a dtype and a small shape, so that
// the rest of the input is the payload under test. Sizes are capped to keep every execution fast; the
// codec's own limits are exercised by the unit tests and the hostile-input tests instead.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tezip/codec.h"

namespace tezip_fuzz {

constexpr size_t kShapeBytes = 5;               // dtype, frames, height, width, channels
constexpr uint64_t kMaxElements = uint64_t(1) << 16;

struct FuzzShape {
  tezip::DType dtype;
  tezip::Shape shape;
};

inline uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

// Returns false when the input is too short for a shape or the shape exceeds the cap.
// With rawDims (the decodeChunk target), when bit 7 of the first byte is set, the four dimensions are raw
// u32s instead (16 more bytes), and the cap applies to Shape::elements() as a caller that trusts it would
// compute it, wrapping included: decodeChunk must refuse shapes whose true size is far larger (see
// native/fuzz/regressions/decode_chunk). Targets that size their own buffers from the shape do not use it.
inline bool takeShape(const uint8_t*& data, size_t& size, FuzzShape& out, bool rawDims = false) {
  if (size < kShapeBytes) return false;
  if (data[0] & 0x80) {
    if (!rawDims) return false;
    if (size < 1 + 16) return false;
    out.dtype = tezip::DType(1 + (data[0] & 0x7f) % 6);
    out.shape.frames = le32(data + 1);
    out.shape.height = le32(data + 5);
    out.shape.width = le32(data + 9);
    out.shape.channels = le32(data + 13);
    data += 17;
    size -= 17;
    return out.shape.elements() <= kMaxElements;
  }
  out.dtype = tezip::DType(1 + data[0] % 6);
  out.shape.frames = 1u + data[1] % 16;
  out.shape.height = 1u + data[2];
  out.shape.width = 1u + data[3];
  out.shape.channels = 1u + data[4] % 4;
  data += kShapeBytes;
  size -= kShapeBytes;
  return out.shape.elements() <= kMaxElements;
}

}  // namespace tezip_fuzz
