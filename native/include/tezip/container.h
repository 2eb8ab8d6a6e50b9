// The .tez container, version 1 (docs/FORMAT.md), for C++ callers: the native CLI, and programs that write
// or read .tez files without Node. The TypeScript library has its own implementation of the same bytes
// (src/container/format.ts); tests check that both write identical files and read each other's.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tezip/codec.h"

namespace tezip::container {

constexpr size_t kHeaderFixedBytes = 94;  // up to and including the metadata length
constexpr size_t kRecordBytes = 32;
constexpr size_t kIndexEntryBytes = 24;
constexpr size_t kTrailerBytes = 24;
constexpr uint8_t kFlagExplicitChannels = 0x01;

struct Header {
  DType dtype = DType::U8;
  uint8_t mode = 0;       // 0 lossless, 1 abs, 2 rel, 3 absrel, 4 pwrel
  uint8_t predictor = 255;
  uint8_t flags = 0;
  uint32_t height = 0, width = 0, channels = 1;
  uint64_t frames = 0;    // 0: see the trailer
  double abs = 0, rel = 0, pwrel = 0, effectiveAbs = 0, min = 0, max = 0;
  uint32_t chunkFrames = 0;
  std::string metadata = "{}";  // a JSON object, UTF-8
  uint32_t headerBytes = 0;     // set by the reader
};

struct IndexEntry {
  uint64_t offset = 0;  // of the chunk record
  uint64_t firstFrame = 0;
  uint32_t frameCount = 0;
  uint32_t payloadBytes = 0;
};

std::vector<uint8_t> writeHeader(const Header& h);
// The 32-byte record header of chunk `chunk` (frames [first, first + count)) whose payload is `payload`.
void writeRecord(uint8_t out[kRecordBytes], uint32_t chunk, uint64_t first, uint32_t count, const uint8_t* payload,
                 uint32_t payloadBytes);
std::vector<uint8_t> writeIndex(const std::vector<IndexEntry>& entries);
void writeTrailer(uint8_t out[kTrailerBytes], uint64_t indexOffset, uint64_t totalFrames);

struct Layout {
  Header header;
  std::vector<IndexEntry> entries;
  uint64_t totalFrames = 0;
  uint64_t frameBytes = 0;  // height × width × channels × dtype size
};

// Reads and checks everything but the payloads of a whole file in memory, in the order docs/FORMAT.md lists
// ("What a reader checks"), before anything is allocated for decoded data: Error with ErrorCode BadMagic,
// Truncated, Unsupported, Corrupt, Checksum, or TooLarge (frames × frame bytes above `maxBytes`).
Layout readLayout(const uint8_t* file, size_t size, uint64_t maxBytes);

// Chunk `i`'s payload, after its record is checked against the index and its payload CRC.
const uint8_t* chunkPayload(const uint8_t* file, size_t size, const Layout& layout, size_t i);

}  // namespace tezip::container
