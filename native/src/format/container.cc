// The .tez container v1 in C++ (docs/FORMAT.md). Mirrors src/container/format.ts byte for byte; the reader
// performs the checks of "What a reader checks" in the same order, with the same error codes.
#include "tezip/container.h"

#include <cmath>
#include <cstring>

#include "format/json.h"

namespace tezip::container {

namespace {

const uint8_t kMagic[8] = {0x89, 0x54, 0x45, 0x5A, 0x0D, 0x0A, 0x1A, 0x0A};
constexpr uint32_t tag(const char* s) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 | uint32_t(uint8_t(s[3])) << 24;
}
constexpr uint32_t kChunkMagic = tag("TZCK");
constexpr uint32_t kIndexMagic = tag("TZIX");
constexpr uint32_t kTrailerMagic = tag("TZND");
// The TypeScript reader holds positions as JavaScript numbers; a file needing more is refused by both.
constexpr uint64_t kMaxSafe = (uint64_t(1) << 53) - 1;

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = uint8_t(v >> (8 * i));
}
void putf64(uint8_t* p, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  put64(p, u);
}
uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t get64(const uint8_t* p) { return uint64_t(get32(p)) | uint64_t(get32(p + 4)) << 32; }
double getf64(const uint8_t* p) {
  uint64_t u = get64(p);
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

[[noreturn]] void fail(ErrorCode c, const std::string& m) { throw Error(c, m); }

}  // namespace

std::vector<uint8_t> writeHeader(const Header& h) {
  const size_t total = kHeaderFixedBytes + h.metadata.size() + 4;
  if (total > 0xFFFFFFFFu) fail(ErrorCode::TooLarge, "header metadata too large");
  std::vector<uint8_t> out(total);
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, 8);
  p[8] = 1;
  p[9] = 0;
  put32(p + 10, uint32_t(total));
  p[14] = uint8_t(h.dtype);
  p[15] = h.mode;
  p[16] = h.predictor;
  p[17] = h.flags;
  put32(p + 18, h.height);
  put32(p + 22, h.width);
  put32(p + 26, h.channels);
  put64(p + 30, h.frames);
  putf64(p + 38, h.abs);
  putf64(p + 46, h.rel);
  putf64(p + 54, h.pwrel);
  putf64(p + 62, h.effectiveAbs);
  putf64(p + 70, h.min);
  putf64(p + 78, h.max);
  put32(p + 86, h.chunkFrames);
  put32(p + 90, uint32_t(h.metadata.size()));
  std::memcpy(p + kHeaderFixedBytes, h.metadata.data(), h.metadata.size());
  put32(p + total - 4, crc32c(p, total - 4));
  return out;
}

void writeRecord(uint8_t out[kRecordBytes], uint32_t chunk, uint64_t first, uint32_t count, const uint8_t* payload,
                 uint32_t payloadBytes) {
  put32(out, kChunkMagic);
  put32(out + 4, chunk);
  put64(out + 8, first);
  put32(out + 16, count);
  put32(out + 20, payloadBytes);
  put32(out + 24, crc32c(payload, payloadBytes));
  put32(out + 28, crc32c(out, 28));
}

std::vector<uint8_t> writeIndex(const std::vector<IndexEntry>& entries) {
  std::vector<uint8_t> out(8 + entries.size() * kIndexEntryBytes + 4);
  put32(out.data(), kIndexMagic);
  put32(out.data() + 4, uint32_t(entries.size()));
  size_t off = 8;
  for (const IndexEntry& e : entries) {
    put64(&out[off], e.offset);
    put64(&out[off + 8], e.firstFrame);
    put32(&out[off + 16], e.frameCount);
    put32(&out[off + 20], e.payloadBytes);
    off += kIndexEntryBytes;
  }
  put32(&out[off], crc32c(out.data(), off));
  return out;
}

void writeTrailer(uint8_t out[kTrailerBytes], uint64_t indexOffset, uint64_t totalFrames) {
  put64(out, indexOffset);
  put64(out + 8, totalFrames);
  put32(out + 16, crc32c(out, 16));
  put32(out + 20, kTrailerMagic);
}

namespace {

Header readHeader(const uint8_t* b, size_t size) {
  const size_t n = size < 8 ? size : 8;
  // n = 0: b may be null, which memcmp must not see
  if (n && std::memcmp(b, kMagic, n) != 0) fail(ErrorCode::BadMagic, "Not a .tez file (bad magic bytes)");
  if (size < 8) fail(ErrorCode::Truncated, "File truncated: " + std::to_string(size) + " bytes");
  if (size < 14) fail(ErrorCode::Truncated, "File truncated inside the header");
  if (b[8] > 1) fail(ErrorCode::Unsupported, "Format version " + std::to_string(b[8]) + " is newer than this reader (1.x)");
  if (b[8] < 1) fail(ErrorCode::Corrupt, "Invalid format version 0");
  Header h;
  h.headerBytes = get32(b + 10);
  if (h.headerBytes < kHeaderFixedBytes + 4) fail(ErrorCode::Corrupt, "Invalid header length");
  if (h.headerBytes > size) fail(ErrorCode::Truncated, "File truncated inside the header");
  if (get32(b + h.headerBytes - 4) != crc32c(b, h.headerBytes - 4)) fail(ErrorCode::Checksum, "Header checksum mismatch");
  const uint8_t dtype = b[14];
  h.mode = b[15];
  h.predictor = b[16];
  h.flags = b[17];
  h.height = get32(b + 18);
  h.width = get32(b + 22);
  h.channels = get32(b + 26);
  h.frames = get64(b + 30);
  if (h.frames > kMaxSafe) fail(ErrorCode::TooLarge, "Frame count is beyond what this reader handles");
  h.abs = getf64(b + 38);
  h.rel = getf64(b + 46);
  h.pwrel = getf64(b + 54);
  h.effectiveAbs = getf64(b + 62);
  h.min = getf64(b + 70);
  h.max = getf64(b + 78);
  h.chunkFrames = get32(b + 86);
  if (dtype < 1 || dtype > 6) fail(ErrorCode::Corrupt, "Unknown dtype in header");
  h.dtype = DType(dtype);
  if (h.mode > 4) fail(ErrorCode::Corrupt, "Unknown bound mode in header");
  if (h.flags & ~kFlagExplicitChannels) fail(ErrorCode::Unsupported, "Unknown header flags");
  if (h.height < 1 || h.width < 1 || h.channels < 1) fail(ErrorCode::Corrupt, "Invalid frame dimensions in header");
  for (double x : {h.abs, h.rel, h.pwrel, h.effectiveAbs})
    if (!(x >= 0) || !std::isfinite(x)) fail(ErrorCode::Corrupt, "Invalid bound in header");
  const uint32_t metaLen = get32(b + 90);
  if (uint64_t(kHeaderFixedBytes) + metaLen + 4 > h.headerBytes) fail(ErrorCode::Corrupt, "Metadata length overruns the header");
  h.metadata.assign(reinterpret_cast<const char*>(b + kHeaderFixedBytes), metaLen);
  if (metaLen == 0) {
    h.metadata = "{}";
  } else {
    json::Value v;
    std::string why;
    if (!json::parse(h.metadata.data(), h.metadata.size(), &v, &why) || v.kind != json::Value::Kind::Object)
      fail(ErrorCode::Corrupt, "Invalid metadata JSON in header" + (why.empty() ? std::string() : " (" + why + ")"));
  }
  return h;
}

}  // namespace

Layout readLayout(const uint8_t* b, size_t size, uint64_t maxBytes) {
  Layout L;
  L.header = readHeader(b, size);
  const Header& h = L.header;
  // trailer
  if (size < kTrailerBytes) fail(ErrorCode::Truncated, "File truncated: no trailer");
  const uint8_t* t = b + size - kTrailerBytes;
  if (get32(t + 20) != kTrailerMagic) fail(ErrorCode::Truncated, "File truncated or damaged: no trailer at the end");
  if (get32(t + 16) != crc32c(t, 16)) fail(ErrorCode::Checksum, "Trailer checksum mismatch");
  const uint64_t indexOffset = get64(t);
  if (indexOffset > kMaxSafe) fail(ErrorCode::Corrupt, "Index offset is outside the file");
  L.totalFrames = get64(t + 8);
  if (L.totalFrames > kMaxSafe) fail(ErrorCode::TooLarge, "Frame count is beyond what this reader handles");
  // index: fills [indexOffset, size − 24) exactly
  const uint64_t end = size - kTrailerBytes;
  if (indexOffset + 12 > end) fail(ErrorCode::Corrupt, "Index offset is outside the file");
  const uint8_t* x = b + indexOffset;
  if (get32(x) != kIndexMagic) fail(ErrorCode::Corrupt, "No index at its offset");
  const uint64_t count = get32(x + 4);
  const uint64_t isize = 8 + count * kIndexEntryBytes + 4;
  if (isize != end - indexOffset) fail(ErrorCode::Corrupt, "Index does not fit its bytes");
  if (get32(x + isize - 4) != crc32c(x, isize - 4)) fail(ErrorCode::Checksum, "Index checksum mismatch");
  // sizes, before anything is allocated for them
  if (h.frames != 0 && h.frames != L.totalFrames) fail(ErrorCode::Corrupt, "Header and trailer disagree on the frame count");
  const uint64_t elems = uint64_t(h.height) * h.width;  // < 2^64: both < 2^32
  const unsigned __int128 frameBytes = (unsigned __int128)elems * h.channels * dtypeSize(h.dtype);
  if (frameBytes > maxBytes || frameBytes * L.totalFrames > maxBytes)  // frameBytes <= 2^64: no wrap
    fail(ErrorCode::TooLarge, "Decoded size is above the limit of " + std::to_string(maxBytes) + " bytes");
  L.frameBytes = uint64_t(frameBytes);
  L.entries.resize(count);  // count × 24 bytes are in the file, so this is bounded by its size
  uint64_t expectOffset = h.headerBytes, expectFrame = 0;
  for (uint64_t i = 0; i < count; i++) {
    const uint8_t* e = x + 8 + i * kIndexEntryBytes;
    IndexEntry& en = L.entries[i];
    en.offset = get64(e);
    en.firstFrame = get64(e + 8);
    en.frameCount = get32(e + 16);
    en.payloadBytes = get32(e + 20);
    if (en.offset != expectOffset || en.firstFrame != expectFrame || en.frameCount == 0)
      fail(ErrorCode::Corrupt, "Chunks are not contiguous in chunk " + std::to_string(i));
    if (uint64_t(en.frameCount) * L.frameBytes > kMaxChunkBytes)  // frameBytes <= maxBytes: no wrap
      fail(ErrorCode::TooLarge, "Chunk " + std::to_string(i) + " holds more than the 1 GiB a chunk may hold");
    expectOffset += kRecordBytes + uint64_t(en.payloadBytes);
    expectFrame += en.frameCount;
    if (expectOffset > indexOffset) fail(ErrorCode::Corrupt, "Chunk " + std::to_string(i) + " overruns the index");
  }
  if (expectOffset != indexOffset || expectFrame != L.totalFrames)
    fail(ErrorCode::Corrupt, "Chunks do not cover the file's frames");
  return L;
}

const uint8_t* chunkPayload(const uint8_t* b, size_t size, const Layout& L, size_t i) {
  const IndexEntry& e = L.entries.at(i);
  const std::string where = " in chunk " + std::to_string(i);
  if (e.offset + kRecordBytes + e.payloadBytes > size) fail(ErrorCode::Truncated, "File truncated" + where);
  const uint8_t* r = b + e.offset;
  if (get32(r) != kChunkMagic) fail(ErrorCode::Corrupt, "No chunk record" + where);
  if (get32(r + 28) != crc32c(r, 28)) fail(ErrorCode::Checksum, "Chunk record header checksum mismatch" + where);
  if (get32(r + 4) != i || get64(r + 8) != e.firstFrame || get32(r + 16) != e.frameCount || get32(r + 20) != e.payloadBytes)
    fail(ErrorCode::Corrupt, "Chunk record disagrees with the index" + where);
  if (get32(r + 24) != crc32c(r + kRecordBytes, e.payloadBytes)) fail(ErrorCode::Checksum, "Payload checksum mismatch" + where);
  return r + kRecordBytes;
}

}  // namespace tezip::container
