// libFuzzer correctness target: arbitrary data of any dtype and small shape, encoded in every mode
// (lossless, abs, pwrel) with a fuzz-chosen predictor, effort level and bound, then decoded; the bound is
// checked element by element (NaN/±Inf and lossless bit-exact). Any violation, or an encoder error on a
// valid request, aborts: libFuzzer saves the input as a finding.
// Input: 5 shape bytes (fuzz_input.h), mode, predictor, level, bound byte, then the values (tiled
// cyclically when shorter than the shape, so that short inputs still fill it).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_bounds.h"
#include "fuzz_input.h"

using namespace tezip;

namespace {

constexpr uint64_t kMaxRoundTripElements = 4096;  // encoding tries many candidates: keep it quick

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "roundtrip finding: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tezip_fuzz::FuzzShape fs;
  if (!tezip_fuzz::takeShape(data, size, fs) || size < 4) return -1;
  if (fs.shape.elements() > kMaxRoundTripElements) return -1;
  static const Predictor kPreds[5] = {Predictor::None, Predictor::Prev, Predictor::Lorenzo2D, Predictor::Lorenzo3D,
                                      Predictor::Auto};
  EncodeParams p;
  p.dtype = fs.dtype;
  p.shape = fs.shape;
  p.mode = Mode(data[0] % 3);
  p.predictor = kPreds[data[1] % 5];
  p.level = data[2] % 3;
  const uint8_t b = data[3];
  p.ebAbs = std::ldexp(1.0 + (b & 15) / 16.0, int(b >> 4) - 8);  // [2^-8, 2^8)
  p.epsPw = std::ldexp(1.0, -(1 + b % 24));                        // 2^-1 .. 2^-24
  data += 4;
  size -= 4;

  const size_t bytes = size_t(fs.shape.elements()) * dtypeSize(fs.dtype);
  std::vector<uint8_t> in(bytes, 0);
  if (size)
    for (size_t i = 0; i < bytes; i++) in[i] = data[i % size];

  std::vector<uint8_t> payload;
  try {
    payload = encodeChunk(in.data(), p);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("encoder refused a valid request");
  }
  std::vector<uint8_t> out(bytes, 0xA5);
  try {
    decodeChunk(payload.data(), payload.size(), fs.dtype, fs.shape, out.data());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("decoder refused the encoder's own payload");
  }
  const size_t n = size_t(fs.shape.elements());
  const size_t bad = tezip_fuzz::violation(fs.dtype, in.data(), out.data(), n, p.mode, p.ebAbs, p.epsPw);
  if (bad != n) {
    std::fprintf(stderr, "element %zu out of bound (dtype %d mode %d predictor %d level %d eb %g eps %g)\n", bad,
                 int(p.dtype), int(p.mode), int(p.predictor), p.level, p.ebAbs, p.epsPw);
    finding("bound violated");
  }
  // The payload must also inspect cleanly.
  try {
    inspectChunk(payload.data(), payload.size());
  } catch (const Error&) {
    finding("inspectChunk refused the encoder's own payload");
  }
  return 0;
}
