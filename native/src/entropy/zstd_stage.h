// The lossless back end: zstd (library compiled from the zstd-napi npm dependency's sources).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tezip {
// level 1..22; longWindow enables long-distance matching (helps sparse, repetitive frames).
std::vector<uint8_t> zstdCompress(const uint8_t* src, size_t n, int level, bool longWindow = false);
// Decompresses exactly `expected` bytes into dst; any other size or a malformed frame throws Corrupt.
void zstdDecompress(const uint8_t* src, size_t n, uint8_t* dst, size_t expected);
}  // namespace tezip
