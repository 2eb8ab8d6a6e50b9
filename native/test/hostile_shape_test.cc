// Shapes a hostile caller or file could declare: the codec refuses them before it allocates or writes.
// Regression for a heap overflow found while hardening (issue 8): four u32 dimensions whose product wraps
// the u64 of Shape::elements() to a small number passed the size checks, and the row loops then ran far
// past a buffer sized from the wrapped count.
#include <cstdio>
#include <cstring>
#include <vector>

#include "tezip/codec.h"

using namespace tezip;

static int failures = 0, checks = 0;

static void expectCode(const char* what, ErrorCode want, void (*f)(const Shape&), const Shape& sh) {
  checks++;
  try {
    f(sh);
  } catch (const Error& e) {
    if (e.code() == want) return;
    std::fprintf(stderr, "FAIL %s: code %d (%s)\n", what, int(e.code()), e.what());
    failures++;
    return;
  }
  std::fprintf(stderr, "FAIL %s: accepted\n", what);
  failures++;
}

static std::vector<uint8_t> codedPayload() {
  // 64×64 zeros at level 0: a coded payload (rANS tables and stream) that decodes any number of zeros.
  std::vector<uint8_t> zeros(64 * 64, 0);
  EncodeParams p;
  p.dtype = DType::U8;
  p.shape = {1, 64, 64, 1};
  p.predictor = Predictor::None;
  p.level = 0;
  return encodeChunk(zeros.data(), p);
}

static std::vector<uint8_t> payload;

static void decodeInto4Bytes(const Shape& sh) {
  std::vector<uint8_t> out(4);  // what a caller would allocate from the wrapped element count
  decodeChunk(payload.data(), payload.size(), DType::U8, sh, out.data());
}

static void encodeFrom4Bytes(const Shape& sh) {
  std::vector<uint8_t> in(4);
  EncodeParams p;
  p.dtype = DType::U8;
  p.shape = sh;
  encodeChunk(in.data(), p);
}

int main() {
  payload = codedPayload();
  checks++;
  if (payload.size() < 3 || (payload[1] != 1 && payload[1] != 3)) {
    std::fprintf(stderr, "FAIL the fixture payload is not coded (method %d)\n", payload.size() > 1 ? payload[1] : -1);
    failures++;
  }
  // h × w × c = 2^64 + 4, + 5, + 10, + 20: Shape::elements() says 4, 5, 10, 20.
  const Shape wraps[] = {{1, 3340214413u, 2761311370u, 2}, {1, 2471990109u, 1066043567u, 7},
                         {1, 2977518503u, 3097670771u, 2}, {1, 1197225396u, 10827767u, 1423}};
  for (const Shape& sh : wraps) {
    checks++;
    if (sh.elements() > 20) std::fprintf(stderr, "FAIL the shape does not wrap\n"), failures++;
    expectCode("decode, wrapping shape", ErrorCode::TooLarge, decodeInto4Bytes, sh);
    expectCode("encode, wrapping shape", ErrorCode::TooLarge, encodeFrom4Bytes, sh);
  }
  // A chunk holds at most 2^40 elements.
  expectCode("decode, 2^40 + 2^20 elements", ErrorCode::TooLarge, decodeInto4Bytes, {(1u << 20) + 1, 1u << 20, 1, 1});
  expectCode("decode, 2^32-1 in every dimension", ErrorCode::TooLarge, decodeInto4Bytes,
             {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu});
  expectCode("decode, empty shape", ErrorCode::InvalidArgument, decodeInto4Bytes, {0, 1, 1, 1});
  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}
