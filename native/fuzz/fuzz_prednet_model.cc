// libFuzzer target: PredNet model loading, the native half of reading a model file. The fuzz bytes are the
// model as untrusted as a file (architecture lists, normalisation, the weight blob) and go through
// predNetWeightCount and makePredNetModel exactly as the addon's loadPredNet passes them. A config that is
// refused must be refused with ErrorCode::Model; a model that is accepted then codes a few small frames in
// the PredNet closed loop (encodeChunk, decodeChunk, the bound checked element by element), and a damaged
// copy of that payload is decoded with the same model. Hostile weights and normalisation must not produce
// an out-of-bounds access, undefined behaviour (NaN to integer...), a huge allocation, or a decoder that
// disagrees with its encoder. Anything else aborts, and libFuzzer keeps the input.
//
// Input layout (scripts/fuzz-seeds.mjs writes seeds in it, from models/moving_mnist):
//   flags        bit 0: weights are raw float32 LE (else int8 / 64); bit 1: weight count off by `delta`;
//                bit 2: one architecture list one entry too long or short; bit 3: channels != stack[0];
//                bit 4: decode a damaged copy of the payload too
//   layers       L = byte % 10 (0 and 9 must be refused)
//   delta        int8 weight-count offset (bit 1); which list and +/- (bit 2)
//   L x 5        per layer: stack, rStack, ahatFilt, rFilt, aFilt (dims(): 1..32 or a special; filt(): 1,3,5,7
//                or a special; aFilt of the top layer unused)
//   3            pixelMax, normMin, normMax: indexes into kReals (NaN, infinities, huge and tiny included)
//   9            frames: dtype, count 1..4, height 1..16, width 1..16, mode, bound, window, warmup, MSE index
//   u16 + bytes  the weight blob (tiled to the weight count)
//   u16 + bytes  the frame data (tiled to the frames)
//   rest         3-byte damages of the payload: u16 position, xor byte (0: cut the payload there)
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "fuzz_bounds.h"
#include "tezip/codec.h"
#include "tezip/prednet.h"

using namespace tezip;

namespace {

constexpr size_t kMaxWeights = size_t(1) << 20;  // the harness builds the weight vector: 4 MiB at most
constexpr uint64_t kMaxMacs = uint64_t(2) << 20;  // multiply-adds per frame: moving_mnist on 8x8 is ~1.3 M

const double kReals[16] = {1,     255,    0,     -1,     0.5,     65535, 1e-30, 1e30,
                           3.4e38, 1e39, 1e308, -1e308, std::nan(""), HUGE_VAL, -HUGE_VAL, 4096};
const double kMse[8] = {0, 1e-6, 1e-3, 0.1, 1, 10, 100, 1e300};
const uint32_t kDims[16] = {0,          33,         64,         1023,       1024, 1025, 4096, 65535,
                            65536,      0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 2,  3,    4};
const uint32_t kFilts[16] = {0, 2, 9, 11, 13, 15, 16, 17, 31, 255, 65535, 0xffffffff, 0x80000001, 0x7fffffff, 14, 4};

uint32_t dims(uint8_t b) { return b < 0xE0 ? 1u + b % 32 : kDims[b & 15]; }
uint32_t filt(uint8_t b) { return b < 0xE0 ? 1u + 2u * (b % 4) : kFilts[b & 15]; }

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "prednet_model finding: %s\n", what);
  std::abort();
}

struct Reader {
  const uint8_t* p;
  size_t n;
  bool ok = true;
  uint8_t u8() {
    if (!n) return ok = false, 0;
    n--;
    return *p++;
  }
  uint16_t u16() { return uint16_t(u8() | u8() << 8); }
  const uint8_t* take(size_t k, size_t& got) {
    got = k < n ? k : n;
    const uint8_t* r = p;
    p += got;
    n -= got;
    return r;
  }
};

// Multiply-adds of one time step (both passes) on frames padded as the runner pads them; cfg checked.
uint64_t macsPerFrame(const PredNetConfig& c, uint32_t h, uint32_t w) {
  const size_t L = c.stack.size();
  const uint64_t mult = uint64_t(1) << (L - 1);
  const uint64_t hp = (h + mult - 1) / mult * mult, wp = (w + mult - 1) / mult * mult;
  uint64_t macs = 0;
  for (size_t l = 0; l < L; l++) {
    const uint64_t px = (hp >> l) * (wp >> l), A = c.stack[l], R = c.rStack[l];
    const uint64_t cin = R + 2 * A + (l + 1 < L ? c.rStack[l + 1] : 0);
    macs += px * (uint64_t(c.rFilt[l]) * c.rFilt[l] * cin * 4 * R + uint64_t(c.ahatFilt[l]) * c.ahatFilt[l] * R * A);
    if (l + 1 < L) macs += px * uint64_t(c.aFilt[l]) * c.aFilt[l] * 2 * A * c.stack[l + 1];
  }
  return macs;
}

std::vector<float> weightsFrom(const uint8_t* b, size_t len, size_t count, bool rawF32) {
  std::vector<float> w(count, 0.f);
  if (rawF32) {
    const size_t k = len / 4;
    if (k)
      for (size_t i = 0; i < count; i++) std::memcpy(&w[i], b + (i % k) * 4, 4);
  } else if (len) {
    for (size_t i = 0; i < count; i++) w[i] = float(int8_t(b[i % len])) / 64.f;
  }
  return w;
}

bool refusedAsModel(const PredNetConfig& cfg, std::vector<float> w) {
  try {
    makePredNetModel(cfg, std::move(w), {});
  } catch (const Error& e) {
    if (e.code() != ErrorCode::Model) finding("a bad model was refused with another code than Model");
    return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  const uint8_t flags = r.u8();
  const uint32_t L = r.u8() % 10;
  const uint8_t delta = r.u8();
  PredNetConfig cfg;
  for (uint32_t l = 0; l < L; l++) {
    cfg.stack.push_back(dims(r.u8()));
    cfg.rStack.push_back(dims(r.u8()));
    cfg.ahatFilt.push_back(filt(r.u8()));
    cfg.rFilt.push_back(filt(r.u8()));
    const uint32_t a = filt(r.u8());
    if (l + 1 < L) cfg.aFilt.push_back(a);
  }
  cfg.pixelMax = kReals[r.u8() & 15];
  cfg.normMin = kReals[r.u8() & 15];
  cfg.normMax = kReals[r.u8() & 15];
  cfg.channels = cfg.stack.empty() ? 0 : cfg.stack[0];
  const bool broken = (flags & 4) || (flags & 8);
  if (flags & 4) {  // one list the wrong length: must be refused, never read past
    std::vector<uint32_t>* lists[5] = {&cfg.stack, &cfg.rStack, &cfg.ahatFilt, &cfg.rFilt, &cfg.aFilt};
    std::vector<uint32_t>& v = *lists[delta % 5];
    if (delta & 0x80) {
      if (!v.empty()) v.pop_back();
      else v.push_back(3);  // aFilt of a one-layer model
    } else {
      v.push_back(3);
    }
  }
  if (flags & 8) cfg.channels += 1;

  uint8_t fr[9];
  for (uint8_t& b : fr) b = r.u8();
  const uint16_t wlen = r.u16();
  size_t wgot = 0;
  const uint8_t* wbytes = r.take(wlen, wgot);
  const uint16_t dlen = r.u16();
  size_t dgot = 0;
  const uint8_t* dbytes = r.take(dlen, dgot);
  if (!r.ok) return -1;  // too short for the header: not worth keeping

  // 1. The weight count: any config may be asked, and a bad one is a Model error.
  size_t want = 0;
  bool valid = true;
  try {
    want = predNetWeightCount(cfg);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::Model) finding("predNetWeightCount failed with another code than Model");
    valid = false;
  }
  if (broken && valid) finding("an inconsistent architecture was accepted");

  // 2. Loading. Configs too big for the harness to fill (or refused) get the blob as it is, which must fail.
  const bool rawF32 = flags & 1;
  if (!valid || want > kMaxWeights) {
    const size_t n = std::min<size_t>(rawF32 ? wgot / 4 : wgot, 4096);
    if (!refusedAsModel(cfg, weightsFrom(wbytes, wgot, n, rawF32)))
      finding(valid ? "a model with the wrong weight count was accepted" : "a refused architecture was accepted");
    return 0;
  }
  size_t count = want;
  if (flags & 2) {
    const int d = int8_t(delta) ? int8_t(delta) : 1;
    count = d < 0 && size_t(-d) > want ? 0 : want + d;
  }
  std::vector<float> w = weightsFrom(wbytes, wgot, count, rawF32);
  bool finite = true;
  for (float x : w) finite = finite && std::isfinite(x);
  const double span = cfg.normMax - cfg.normMin;
  const bool goodReals = std::isfinite(cfg.pixelMax) && cfg.pixelMax > 0 && cfg.pixelMax <= 3.4028234663852886e38 &&
                         std::isfinite(cfg.normMin) && std::isfinite(cfg.normMax) && span > 0 && std::isfinite(span);
  std::shared_ptr<const PredNetModel> model;
  std::array<uint8_t, 32> sha;
  for (size_t i = 0; i < 32; i++) sha[i] = uint8_t(0xA0 + i);
  try {
    model = makePredNetModel(cfg, std::move(w), sha);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::Model) finding("makePredNetModel failed with another code than Model");
    if (count == want && finite && goodReals) finding("a good model was refused");
    return 0;
  }
  if (count != want) finding("a model with the wrong weight count was accepted");
  if (!finite) finding("a model with non-finite weights was accepted");
  if (!goodReals) finding("a model with bad pixelMax or normalisation was accepted");

  // 3. A few small frames through the closed loop, when cheap enough to keep the fuzzer fast.
  EncodeParams p;
  p.dtype = DType(1 + fr[0] % 6);
  p.shape.frames = 1u + fr[1] % 4;
  p.shape.height = 1u + fr[2] % 16;
  p.shape.width = 1u + fr[3] % 16;
  p.shape.channels = cfg.channels;
  if (macsPerFrame(cfg, p.shape.height, p.shape.width) > kMaxMacs) return 0;
  p.mode = Mode(fr[4] % 3);
  p.level = (fr[4] >> 4) % 3;
  p.ebAbs = std::ldexp(1.0 + (fr[5] & 15) / 16.0, int(fr[5] >> 4) - 8);  // [2^-8, 2^8)
  p.epsPw = std::ldexp(1.0, -(1 + fr[5] % 24));                          // 2^-1 .. 2^-24
  p.predictor = Predictor::PredNet;
  p.prednet = model;
  p.prednetOptions.window = fr[6] % 5;
  p.prednetOptions.warmup = fr[7] % 4;
  p.prednetOptions.mseThreshold = kMse[fr[8] % 8];

  const size_t n = size_t(p.shape.elements());
  const size_t bytes = n * dtypeSize(p.dtype);
  std::vector<uint8_t> in(bytes, 0);
  if (dgot)
    for (size_t i = 0; i < bytes; i++) in[i] = dbytes[i % dgot];
  std::vector<uint8_t> payload;
  try {
    payload = encodeChunk(in.data(), p);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("the encoder refused a valid request with an accepted model");
  }
  std::vector<uint8_t> out(bytes, 0xA5);
  try {
    decodeChunk(payload.data(), payload.size(), p.dtype, p.shape, out.data(), model.get());
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    finding("the decoder refused the encoder's own payload");
  }
  const size_t bad = tezip_fuzz::violation(p.dtype, in.data(), out.data(), n, p.mode, p.ebAbs, p.epsPw);
  if (bad != n) {
    std::fprintf(stderr, "element %zu out of bound (dtype %d mode %d eb %g eps %g)\n", bad, int(p.dtype),
                 int(p.mode), p.ebAbs, p.epsPw);
    finding("bound violated");
  }

  // 4. A damaged copy, decoded with the same model: an error or any values, nothing else. Copied into a
  // buffer of exactly its size so that a read past it is caught.
  if ((flags & 16) && r.n >= 3 && !payload.empty()) {
    while (r.n >= 3) {
      const size_t at = r.u16() % payload.size();
      const uint8_t x = r.u8();
      if (x) payload[at] ^= x;
      else payload.resize(at);
      if (payload.empty()) break;
    }
    std::vector<uint8_t> damaged(payload);
    try {
      decodeChunk(damaged.data(), damaged.size(), p.dtype, p.shape, out.data(), model.get());
    } catch (const Error&) {
    }
  }
  return 0;
}
