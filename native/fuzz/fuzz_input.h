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

// Returns false when the input is too short for a shape or the shape exceeds the cap.
inline bool takeShape(const uint8_t*& data, size_t& size, FuzzShape& out) {
  if (size < kShapeBytes) return false;
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
