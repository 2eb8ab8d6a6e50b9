// libFuzzer target: the C++ .tez reader (tezip::container::readLayout, chunkPayload) on arbitrary files, then
// decodeChunk of every chunk that passes its checks, as the native CLI's decompress does. The input is the
// whole file, copied into a buffer of exactly its size so that reading one byte past it is caught. Any
// failure must be a tezip::Error. Decoded sizes are capped (kMaxBytes) so that executions stay fast.
// A custom mutator repairs the CRCs after libFuzzer's mutation most of the time, so that mutated header,
// index and record fields get past the checksums to the checks behind them.
#include <cstring>
#include <vector>

#include "tezip/codec.h"
#include "tezip/container.h"

namespace {

constexpr uint64_t kMaxBytes = uint64_t(1) << 22;

uint32_t get32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t get64(const uint8_t* p) { return uint64_t(get32(p)) | uint64_t(get32(p + 4)) << 32; }
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}

// Recomputes every CRC whose covered bytes lie inside the file: header, records and payloads (walked from the
// end of the header), index, trailer.
void repairCrcs(uint8_t* b, size_t size) {
  namespace C = tezip::container;
  if (size < 14) return;
  const uint32_t headerBytes = get32(b + 10);
  if (headerBytes >= C::kHeaderFixedBytes + 4 && headerBytes <= size)
    put32(b + headerBytes - 4, tezip::crc32c(b, headerBytes - 4));
  if (size < C::kTrailerBytes) return;
  const size_t end = size - C::kTrailerBytes;
  const uint64_t indexOffset = get64(b + end);
  for (uint64_t off = headerBytes; headerBytes <= size && off + C::kRecordBytes <= end && off < indexOffset;) {
    uint8_t* r = b + off;
    const uint64_t n = get32(r + 20);
    if (off + C::kRecordBytes + n > end) break;
    put32(r + 24, tezip::crc32c(r + C::kRecordBytes, size_t(n)));
    put32(r + 28, tezip::crc32c(r, 28));
    off += C::kRecordBytes + n;
  }
  if (indexOffset <= end && end - indexOffset >= 12) {
    const uint64_t count = get32(b + indexOffset + 4);
    if (8 + count * C::kIndexEntryBytes + 4 == end - indexOffset)
      put32(b + end - 4, tezip::crc32c(b + indexOffset, size_t(end - 4 - indexOffset)));
  }
  put32(b + end + 16, tezip::crc32c(b + end, 16));
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t maxSize) __attribute__((weak));

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  if (!LLVMFuzzerMutate) return size;  // replayed without libFuzzer (regress_main.cc)
  size = LLVMFuzzerMutate(data, size, maxSize);
  if (seed % 8 != 0) repairCrcs(data, size);  // 1 in 8 keep their CRCs as mutated: the CRC checks are fuzzed too
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace C = tezip::container;
  const std::vector<uint8_t> file(data, data + size);
  C::Layout L;
  try {
    L = C::readLayout(file.data(), file.size(), kMaxBytes);
  } catch (const tezip::Error&) {
    return 0;
  }
  std::vector<uint8_t> out;
  for (size_t i = 0; i < L.entries.size(); i++) {
    const C::IndexEntry& e = L.entries[i];
    try {
      const uint8_t* p = C::chunkPayload(file.data(), file.size(), L, i);
      tezip::inspectChunk(p, e.payloadBytes);
      out.assign(size_t(e.frameCount * L.frameBytes), 0);  // <= kMaxBytes: readLayout checked the total
      const tezip::Shape s{e.frameCount, L.header.height, L.header.width, L.header.channels};
      tezip::decodeChunk(p, e.payloadBytes, L.header.dtype, s, out.data());
    } catch (const tezip::Error&) {
    }
  }
  return 0;
}
