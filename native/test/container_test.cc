// The C++ .tez container (tezip/container.h) and the strict JSON reader (format/json.h): a file written by the
// writer reads back, and every hostile file maps to the ErrorCode docs/FORMAT.md "What a reader checks" gives
// it — before anything is allocated for decoded data (a counting operator new checks that).
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "format/json.h"
#include "tezip/codec.h"
#include "tezip/container.h"

using namespace tezip;
namespace C = tezip::container;

// ---- the largest single allocation made while a check runs ----
static std::atomic<size_t> largestAlloc{0};
void* operator new(size_t n) {
  size_t seen = largestAlloc.load();
  while (n > seen && !largestAlloc.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

static int failures = 0, checks = 0;

static void fail(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "FAIL %s: %s\n", what.c_str(), why.c_str());
  failures++;
}
static void expect(bool ok, const std::string& what) {
  checks++;
  if (!ok) fail(what, "false");
}

// Runs f, which must throw Error with `want`; allocations above `allocCap` bytes fail the check too.
static void expectCode(const std::string& what, ErrorCode want, const std::function<void()>& f, size_t allocCap = 1 << 20) {
  checks++;
  largestAlloc = 0;
  try {
    f();
  } catch (const Error& e) {
    if (e.code() != want) fail(what, std::string("code ") + e.codeName() + " (" + e.what() + ")");
    else if (largestAlloc > allocCap) fail(what, "allocated " + std::to_string(largestAlloc.load()) + " bytes");
    return;
  } catch (const std::exception& e) {
    fail(what, std::string("threw a non-tezip exception: ") + e.what());
    return;
  }
  fail(what, "accepted");
}

static void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = uint8_t(v >> (8 * i));
}
static void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = uint8_t(v >> (8 * i));
}
static uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
static uint64_t get64(const uint8_t* p) { return uint64_t(get32(p)) | uint64_t(get32(p + 4)) << 32; }

// A whole file as the native CLI writes one: header, records, index, trailer.
struct File {
  std::vector<uint8_t> bytes;
  size_t headerBytes = 0, indexOffset = 0;
  std::vector<C::IndexEntry> entries;
};

static File writeFile(const C::Header& h, const std::vector<std::vector<uint8_t>>& payloads, const std::vector<uint32_t>& counts) {
  File f;
  f.bytes = C::writeHeader(h);
  f.headerBytes = f.bytes.size();
  uint64_t first = 0;
  for (size_t i = 0; i < payloads.size(); i++) {
    uint8_t rec[C::kRecordBytes];
    C::writeRecord(rec, uint32_t(i), first, counts[i], payloads[i].data(), uint32_t(payloads[i].size()));
    f.entries.push_back({f.bytes.size(), first, counts[i], uint32_t(payloads[i].size())});
    f.bytes.insert(f.bytes.end(), rec, rec + sizeof rec);
    f.bytes.insert(f.bytes.end(), payloads[i].begin(), payloads[i].end());
    first += counts[i];
  }
  f.indexOffset = f.bytes.size();
  const std::vector<uint8_t> index = C::writeIndex(f.entries);
  f.bytes.insert(f.bytes.end(), index.begin(), index.end());
  uint8_t t[C::kTrailerBytes];
  C::writeTrailer(t, f.indexOffset, first);
  f.bytes.insert(f.bytes.end(), t, t + sizeof t);
  return f;
}

// CRC repairs after a deliberate edit, so that the check after the CRC is the one that fires.
static void fixHeaderCrc(std::vector<uint8_t>& b, size_t headerBytes) {
  put32(&b[headerBytes - 4], crc32c(b.data(), headerBytes - 4));
}
static void fixTrailerCrc(std::vector<uint8_t>& b) {
  uint8_t* t = &b[b.size() - C::kTrailerBytes];
  put32(t + 16, crc32c(t, 16));
}
static void fixIndexCrc(std::vector<uint8_t>& b, size_t indexOffset) {
  const size_t end = b.size() - C::kTrailerBytes;
  put32(&b[end - 4], crc32c(&b[indexOffset], end - 4 - indexOffset));
}
static void fixRecordCrc(std::vector<uint8_t>& b, size_t offset) { put32(&b[offset + 28], crc32c(&b[offset], 28)); }

static C::Layout read(const std::vector<uint8_t>& b, uint64_t maxBytes = 16ull << 30) {
  return C::readLayout(b.data(), b.size(), maxBytes);
}
static void readAll(const std::vector<uint8_t>& b) {
  const C::Layout L = read(b);
  for (size_t i = 0; i < L.entries.size(); i++) C::chunkPayload(b.data(), b.size(), L, i);
}

int main() {
  // ---- a small u16 array [7, 5, 6] in chunks of 3, 3, 1 frames ----
  const uint32_t T = 7, H = 5, W = 6;
  std::vector<uint16_t> data(T * H * W);
  for (size_t i = 0; i < data.size(); i++) data[i] = uint16_t(1000 + 37 * (i % 11) + i / 30);
  C::Header h;
  h.dtype = DType::U16;
  h.mode = 0;
  h.predictor = uint8_t(Predictor::Auto);
  h.height = H;
  h.width = W;
  h.channels = 1;
  h.frames = T;
  h.min = 1000;
  h.max = 1500;
  h.chunkFrames = 3;
  h.metadata = "{\"source\":{\"format\":\"raw\",\"file\":\"x.raw\"}}";
  std::vector<std::vector<uint8_t>> payloads;
  const std::vector<uint32_t> counts = {3, 3, 1};
  for (uint32_t first = 0, i = 0; i < counts.size(); first += counts[i], i++) {
    EncodeParams p;
    p.dtype = DType::U16;
    p.shape = {counts[i], H, W, 1};
    payloads.push_back(encodeChunk(&data[first * H * W], p));
  }
  const File good = writeFile(h, payloads, counts);

  // ---- reads back ----
  {
    const C::Layout L = read(good.bytes);
    expect(L.totalFrames == T && L.frameBytes == H * W * 2 && L.entries.size() == 3, "layout sizes");
    expect(L.header.headerBytes == good.headerBytes && L.header.metadata == h.metadata, "header metadata");
    expect(L.header.height == H && L.header.width == W && L.header.channels == 1 && L.header.dtype == DType::U16 &&
               L.header.chunkFrames == 3 && L.header.min == 1000 && L.header.max == 1500 && L.header.frames == T,
           "header fields");
    std::vector<uint16_t> out(data.size());
    for (size_t i = 0; i < L.entries.size(); i++) {
      const C::IndexEntry& e = L.entries[i];
      expect(e.offset == good.entries[i].offset && e.firstFrame == good.entries[i].firstFrame &&
                 e.frameCount == counts[i] && e.payloadBytes == payloads[i].size(),
             "index entry " + std::to_string(i));
      const uint8_t* p = C::chunkPayload(good.bytes.data(), good.bytes.size(), L, i);
      expect(std::memcmp(p, payloads[i].data(), payloads[i].size()) == 0, "payload " + std::to_string(i));
      decodeChunk(p, e.payloadBytes, DType::U16, {e.frameCount, H, W, 1}, &out[e.firstFrame * H * W]);
    }
    expect(out == data, "decoded values");
    // An empty metadata field reads as {} (the TypeScript reader does the same).
    C::Header h0 = h;
    h0.metadata = "";
    expect(read(writeFile(h0, payloads, counts).bytes).header.metadata == "{}", "empty metadata reads as {}");
    // frames = 0 in the header: the trailer's count (a streamed file).
    h0 = h;
    h0.frames = 0;
    expect(read(writeFile(h0, payloads, counts).bytes).totalFrames == T, "header frames 0");
  }

  // ---- magic ----
  {
    std::vector<uint8_t> b = good.bytes;
    b[0] ^= 1;
    expectCode("bad magic", ErrorCode::BadMagic, [&] { read(b); });
    const std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0};
    expectCode("a PNG file", ErrorCode::BadMagic, [&] { read(png); });
    std::vector<uint8_t> text(200, 'x');
    expectCode("text", ErrorCode::BadMagic, [&] { read(text); });
    std::vector<uint8_t> shortBad = {0x89, 'T', 'X'};
    expectCode("3 bytes, wrong", ErrorCode::BadMagic, [&] { read(shortBad); });
  }

  // ---- truncation at every length: Truncated, whatever part is cut ----
  {
    int wrong = 0;
    for (size_t n = 0; n < good.bytes.size(); n++) {
      std::vector<uint8_t> b(good.bytes.begin(), good.bytes.begin() + n);  // exact size: ASan-visible overreads
      try {
        readAll(b);
        wrong++;
        std::fprintf(stderr, "FAIL truncated to %zu bytes: accepted\n", n);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::Truncated) {
          wrong++;
          std::fprintf(stderr, "FAIL truncated to %zu bytes: %s (%s)\n", n, e.codeName(), e.what());
        }
      }
    }
    checks++;
    if (wrong) failures++;
    // A layout read from the whole file, then a payload asked of a shorter buffer.
    const C::Layout L = read(good.bytes);
    expectCode("chunk beyond the end", ErrorCode::Truncated,
               [&] { C::chunkPayload(good.bytes.data(), good.entries[2].offset + 40, L, 2); });
  }

  // ---- each CRC, with the stored CRC itself and a byte it covers ----
  {
    auto flip = [&](size_t at) {
      std::vector<uint8_t> b = good.bytes;
      b[at] ^= 0x10;
      return b;
    };
    const size_t trailer = good.bytes.size() - C::kTrailerBytes;
    expectCode("header CRC: metadata byte", ErrorCode::Checksum, [&] { read(flip(C::kHeaderFixedBytes + 3)); });
    expectCode("header CRC: min", ErrorCode::Checksum, [&] { read(flip(70)); });
    expectCode("header CRC: the CRC", ErrorCode::Checksum, [&] { read(flip(good.headerBytes - 2)); });
    expectCode("trailer CRC: index offset", ErrorCode::Checksum, [&] { read(flip(trailer + 1)); });
    expectCode("trailer CRC: total frames", ErrorCode::Checksum, [&] { read(flip(trailer + 8)); });
    expectCode("trailer CRC: the CRC", ErrorCode::Checksum, [&] { read(flip(trailer + 16)); });
    expectCode("trailer magic", ErrorCode::Truncated, [&] { read(flip(trailer + 21)); });
    expectCode("index CRC: an entry", ErrorCode::Checksum, [&] { read(flip(good.indexOffset + 8 + 24 + 17)); });
    expectCode("index CRC: the count", ErrorCode::Corrupt, [&] { read(flip(good.indexOffset + 4)); });  // size check first
    expectCode("index CRC: the CRC", ErrorCode::Checksum, [&] { read(flip(trailer - 1)); });
    expectCode("index magic", ErrorCode::Corrupt, [&] { read(flip(good.indexOffset)); });
    for (size_t i = 0; i < 3; i++) {
      const size_t r = good.entries[i].offset;
      const std::string c = " (chunk " + std::to_string(i) + ")";
      expectCode("record CRC: a field" + c, ErrorCode::Checksum, [&] { readAll(flip(r + 12)); });
      expectCode("record CRC: the CRC" + c, ErrorCode::Checksum, [&] { readAll(flip(r + 29)); });
      expectCode("record magic" + c, ErrorCode::Corrupt, [&] { readAll(flip(r + 1)); });
      expectCode("payload CRC: a payload byte" + c, ErrorCode::Checksum,
                 [&] { readAll(flip(r + C::kRecordBytes + good.entries[i].payloadBytes / 2)); });
      std::vector<uint8_t> b = flip(r + 25);  // the stored payload CRC, record CRC repaired
      fixRecordCrc(b, r);
      expectCode("payload CRC: the CRC" + c, ErrorCode::Checksum, [&] { readAll(b); });
      // record fields that disagree with the index (record CRC repaired)
      for (size_t field : {4, 8, 16, 20}) {
        std::vector<uint8_t> d = good.bytes;
        d[r + field] ^= 1;
        fixRecordCrc(d, r);
        expectCode("record field at +" + std::to_string(field) + " disagrees with the index" + c, ErrorCode::Corrupt,
                   [&] { readAll(d); });
      }
    }
  }

  // ---- header fields (header CRC repaired, or written so by the writer) ----
  {
    auto edited = [&](size_t at, uint8_t v) {
      std::vector<uint8_t> b = good.bytes;
      b[at] = v;
      fixHeaderCrc(b, good.headerBytes);
      return b;
    };
    expectCode("version 2", ErrorCode::Unsupported, [&] { read(edited(8, 2)); });
    expectCode("version 0", ErrorCode::Corrupt, [&] { read(edited(8, 0)); });
    {
      std::vector<uint8_t> b = good.bytes;
      put32(&b[10], 97);
      expectCode("header length 97", ErrorCode::Corrupt, [&] { read(b); });
      put32(&b[10], uint32_t(b.size() + 1));
      expectCode("header length beyond the file", ErrorCode::Truncated, [&] { read(b); });
      put32(&b[10], 0xFFFFFFFFu);
      expectCode("header length 2^32-1", ErrorCode::Truncated, [&] { read(b); });
    }
    expectCode("dtype 0", ErrorCode::Corrupt, [&] { read(edited(14, 0)); });
    expectCode("dtype 7", ErrorCode::Corrupt, [&] { read(edited(14, 7)); });
    expectCode("mode 5", ErrorCode::Corrupt, [&] { read(edited(15, 5)); });
    expectCode("unknown flag", ErrorCode::Unsupported, [&] { read(edited(17, 0x02)); });
    expectCode("height 0", ErrorCode::Corrupt, [&] {
      std::vector<uint8_t> b = good.bytes;
      put32(&b[18], 0);
      fixHeaderCrc(b, good.headerBytes);
      read(b);
    });
    expectCode("channels 0", ErrorCode::Corrupt, [&] {
      std::vector<uint8_t> b = good.bytes;
      put32(&b[26], 0);
      fixHeaderCrc(b, good.headerBytes);
      read(b);
    });
    for (double bad : {-1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
      for (int field = 0; field < 4; field++) {
        C::Header hb = h;
        (field == 0 ? hb.abs : field == 1 ? hb.rel : field == 2 ? hb.pwrel : hb.effectiveAbs) = bad;
        const std::vector<uint8_t> b = writeFile(hb, payloads, counts).bytes;
        expectCode("bound " + std::to_string(field) + " = " + std::to_string(bad), ErrorCode::Corrupt, [&] { read(b); });
      }
    }
    for (const char* meta : {"[1]", "\"x\"", "{", "{\"a\":1}x", "{\"a\":\"\xC3\x28\"}", "null"}) {
      C::Header hb = h;
      hb.metadata = meta;
      const std::vector<uint8_t> b = writeFile(hb, payloads, counts).bytes;
      expectCode(std::string("metadata ") + meta, ErrorCode::Corrupt, [&] { read(b); });
    }
    {
      std::vector<uint8_t> b = good.bytes;
      put32(&b[90], uint32_t(good.headerBytes - C::kHeaderFixedBytes - 3));  // one byte into the CRC
      fixHeaderCrc(b, good.headerBytes);
      expectCode("metadata overruns the header", ErrorCode::Corrupt, [&] { read(b); });
      put32(&b[90], 0xFFFFFFFFu);
      fixHeaderCrc(b, good.headerBytes);
      expectCode("metadata length 2^32-1", ErrorCode::Corrupt, [&] { read(b); });
    }
    {
      C::Header hb = h;
      hb.frames = T + 1;
      const std::vector<uint8_t> b = writeFile(hb, payloads, counts).bytes;
      expectCode("header and trailer frame counts disagree", ErrorCode::Corrupt, [&] { read(b); });
      hb.frames = uint64_t(1) << 53;
      const std::vector<uint8_t> b2 = writeFile(hb, payloads, counts).bytes;
      expectCode("header frames 2^53", ErrorCode::TooLarge, [&] { read(b2); });
    }
  }

  // ---- index and trailer positions (CRCs repaired) ----
  {
    auto withIndexOffset = [&](uint64_t off) {
      std::vector<uint8_t> b = good.bytes;
      put64(&b[b.size() - C::kTrailerBytes], off);
      fixTrailerCrc(b);
      return b;
    };
    const uint64_t size = good.bytes.size();
    for (uint64_t off : {size, size + 1000, size - 24, size - 24 - 11, uint64_t(1) << 40, (uint64_t(1) << 53) - 1,
                         uint64_t(1) << 53, ~uint64_t(0), ~uint64_t(0) - 5}) {
      expectCode("index offset " + std::to_string(off), ErrorCode::Corrupt, [&] { read(withIndexOffset(off)); });
    }
    // pointing at a chunk record or into the header: no index magic there
    expectCode("index offset at a record", ErrorCode::Corrupt, [&] { read(withIndexOffset(good.entries[1].offset)); });
    expectCode("index offset 0", ErrorCode::Corrupt, [&] { read(withIndexOffset(0)); });
    {
      std::vector<uint8_t> b = good.bytes;
      put64(&b[b.size() - C::kTrailerBytes + 8], T + 1);
      fixTrailerCrc(b);
      expectCode("trailer frames disagree with the header", ErrorCode::Corrupt, [&] { read(b); });
    }
    auto withEntry = [&](size_t i, size_t field, uint64_t v, bool wide) {
      std::vector<uint8_t> b = good.bytes;
      uint8_t* e = &b[good.indexOffset + 8 + i * C::kIndexEntryBytes + field];
      if (wide) put64(e, v);
      else put32(e, uint32_t(v));
      fixIndexCrc(b, good.indexOffset);
      return b;
    };
    const C::IndexEntry& e1 = good.entries[1];
    expectCode("overlapping chunks (offset inside chunk 0)", ErrorCode::Corrupt, [&] { read(withEntry(1, 0, e1.offset - 10, true)); });
    expectCode("a gap between chunks", ErrorCode::Corrupt, [&] { read(withEntry(1, 0, e1.offset + 1, true)); });
    expectCode("chunk offset 2^64-1", ErrorCode::Corrupt, [&] { read(withEntry(1, 0, ~uint64_t(0), true)); });
    expectCode("overlapping frames", ErrorCode::Corrupt, [&] { read(withEntry(1, 8, 2, true)); });
    expectCode("a gap in the frames", ErrorCode::Corrupt, [&] { read(withEntry(1, 8, 4, true)); });
    expectCode("zero frames in a chunk", ErrorCode::Corrupt, [&] { read(withEntry(2, 16, 0, false)); });
    expectCode("frames beyond the total", ErrorCode::Corrupt, [&] { read(withEntry(2, 16, 2, false)); });
    expectCode("payload length beyond the index", ErrorCode::Corrupt, [&] { read(withEntry(2, 20, 0xFFFFFFFFu, false)); });
    expectCode("payload length one short", ErrorCode::Corrupt,
               [&] { read(withEntry(2, 20, good.entries[2].payloadBytes - 1, false)); });
    {
      // an index that claims more entries than its bytes hold
      std::vector<uint8_t> b = good.bytes;
      put32(&b[good.indexOffset + 4], 0xFFFFFFFFu);
      fixIndexCrc(b, good.indexOffset);
      expectCode("index count 2^32-1", ErrorCode::Corrupt, [&] { read(b); });
    }
  }

  // ---- sizes a hostile file declares: refused before anything is allocated for them ----
  {
    // A file of 2^40 frames of 2^20 × 2^20 float64 pixels: a few hundred bytes.
    C::Header hb = h;
    hb.dtype = DType::F64;
    hb.height = 1u << 20;
    hb.width = 1u << 20;
    hb.frames = uint64_t(1) << 40;
    std::vector<uint8_t> b = C::writeHeader(hb);
    const uint64_t indexOffset = b.size();
    const std::vector<uint8_t> index = C::writeIndex({});
    b.insert(b.end(), index.begin(), index.end());
    uint8_t t[C::kTrailerBytes];
    C::writeTrailer(t, indexOffset, hb.frames);
    b.insert(b.end(), t, t + sizeof t);
    expectCode("2^40 frames of 2^20 x 2^20 float64 (16 GiB limit)", ErrorCode::TooLarge, [&] { read(b); }, 4096);
    expectCode("the same with maxBytes 2^64-1", ErrorCode::TooLarge, [&] { read(b, ~uint64_t(0)); }, 4096);
    // one frame of 2^32-1 × 2^32-1 × 2^32-1 (the product does not fit 64 bits)
    hb.height = hb.width = hb.channels = 0xFFFFFFFFu;
    hb.frames = 1;
    std::vector<uint8_t> b2 = C::writeHeader(hb);
    b2.insert(b2.end(), index.begin(), index.end());
    C::writeTrailer(t, b2.size() - index.size(), 1);
    b2.insert(b2.end(), t, t + sizeof t);
    expectCode("frame bytes beyond 2^64", ErrorCode::TooLarge, [&] { read(b2, ~uint64_t(0)); }, 4096);
    // the good file against a limit just below its size, and at it
    expectCode("decoded size one byte above maxBytes", ErrorCode::TooLarge, [&] { read(good.bytes, T * H * W * 2 - 1); });
    checks++;
    try {
      read(good.bytes, T * H * W * 2);
    } catch (const Error& e) {
      fail("decoded size equal to maxBytes", e.what());
    }
    // trailer frame count beyond 2^53
    std::vector<uint8_t> b3 = good.bytes;
    put64(&b3[b3.size() - C::kTrailerBytes + 8], uint64_t(1) << 60);
    fixTrailerCrc(b3);
    expectCode("trailer frames 2^60", ErrorCode::TooLarge, [&] { read(b3); }, 4096);
  }

  // ---- json::parse ----
  {
    auto parses = [](const std::string& s) {
      json::Value v;
      return json::parse(s.data(), s.size(), &v, nullptr);
    };
    json::Value v;
    const std::string doc =
        " {\"shape\": [4, 5, 6], \"dtype\": \"uint8\", \"x\": -0.5e-3, \"t\": true, \"f\": false, \"n\": null,"
        " \"s\": \"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\xC3\xA9\", \"dtype\": \"uint16\"}\n";
    std::string why;
    checks++;
    if (!json::parse(doc.data(), doc.size(), &v, &why)) {
      fail("a sidecar-like document", why);
    } else {
      const json::Value* shape = v.find("shape");
      expect(shape && shape->kind == json::Value::Kind::Array && shape->items.size() == 3 && shape->items[2].number == 6 &&
                 shape->items[2].integer,
             "shape read");
      expect(v.find("dtype") && v.find("dtype")->text == "uint16", "duplicate keys: the last wins");
      const json::Value* x = v.find("x");
      expect(x && x->number == -0.5e-3 && !x->integer && x->text == "-0.5e-3", "number read");
      expect(v.find("s") && v.find("s")->text == "a\"b\\c/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80\xC3\xA9", "string escapes");
      expect(v.find("t")->boolean && !v.find("f")->boolean && v.find("n")->kind == json::Value::Kind::Null, "literals");
      expect(v.find("missing") == nullptr, "missing key");
    }
    // lone surrogates: accepted (JSON.parse accepts them), stored as U+FFFD (what TextEncoder writes)
    expect(parses("\"\\ud800\"") && (json::parse("\"\\ud800\"", 8, &v, nullptr), v.text == "\xEF\xBF\xBD"), "lone high surrogate");
    expect(parses("\"\\udc00x\"") && (json::parse("\"\\udc00x\"", 9, &v, nullptr), v.text == "\xEF\xBF\xBDx"), "lone low surrogate");
    expect(parses("\"\\ud800\\u0041\"") && (json::parse("\"\\ud800\\u0041\"", 14, &v, nullptr), v.text == "\xEF\xBF\xBD" "A"),
           "high surrogate then a non-surrogate escape");
    // nesting: 64 levels inside the top value are fine, deeper is refused, and very deep input cannot blow the stack
    std::string deep64 = std::string(65, '[') + std::string(65, ']');
    expect(parses(deep64), "65 nested arrays");
    std::string deep66 = std::string(66, '[') + std::string(66, ']');
    expect(!parses(deep66), "66 nested arrays refused");
    std::string deepObj;
    for (int i = 0; i < 100000; i++) deepObj += "{\"a\":";
    expect(!parses(deepObj + "1" + std::string(100000, '}')), "100000 nested objects refused");
    expect(!parses(std::string(1000000, '[')), "a million open brackets refused");
    // rejected: invalid UTF-8 in strings, and everything that is not exactly one JSON value
    for (const char* bad : {"\"\xC3\x28\"", "\"\xC0\xAF\"", "\"\xE0\x80\xAF\"", "\"\xED\xA0\x80\"", "\"\xED\xBF\xBF\"",
                            "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\xE2\x82\"", "\"\x80\"", "\"\xFF\"",
                            "\"\xE2\x82", "\xEF\xBB\xBF{}", "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{,}", "[,1]",
                            "01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "'a'",
                            "\"abc", "\"a\nb\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "{} {}", "[1] x", "tru", "nul",
                            "truex", "{\"a\" 1}", "{a:1}", "[1 2]", "\"\\\""}) {
      expect(!parses(bad), std::string("rejects ") + bad);
    }
    // embedded NUL (inside and outside strings)
    expect(!parses(std::string("\"a\0b\"", 5)), "NUL in a string");
    expect(!parses(std::string("{}\0", 3)), "NUL after the value");
    // accepted: the valid extremes
    for (const char* ok : {"0", "-0", "1e400", "-1E-400", "[]", "{}", "\"\"", "\"\xF4\x8F\xBF\xBF\"", "\"\xEF\xBF\xBF\"",
                           "\"\xE0\xA0\x80\"", "\"\\u0000\"", " \t\r\n[ 1 , 2 ] \t\r\n"}) {
      expect(parses(ok), std::string("accepts ") + ok);
    }
  }

  // ---- json::quote escapes as JSON.stringify does ----
  {
    std::string all;
    for (int c = 0; c < 128; c++) all.push_back(char(c));
    all += "\xC3\xA9\xF0\x9F\x98\x80\xE2\x80\xA8";  // é, U+1F600, U+2028 (JSON.stringify leaves these as they are)
    // JSON.stringify of the same string, from Node (characters 0..126, then DEL and the rest as they are)
    const std::string want =
        std::string(
            R"J("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~)J") +
        "\x7F\xC3\xA9\xF0\x9F\x98\x80\xE2\x80\xA8\"";
    const std::string got = json::quote(all);
    checks++;
    if (got != want) fail("quote of characters 0..127 and some non-ASCII", got);
    json::Value v;
    expect(json::parse(got.data(), got.size(), &v, nullptr) && v.text == all, "quote reads back");
    expect(json::quote("") == "\"\"", "quote of the empty string");
  }

  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
