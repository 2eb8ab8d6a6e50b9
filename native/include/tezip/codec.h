// Public C++ API of the tezip core: one chunk (a group of frames that decodes on its own) at a time.
// Native code never prints and never exits: every failure is a tezip::Error with a stable code.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tezip/prednet.h"

namespace tezip {

// Stable error codes, mirrored by TezipError.code in TypeScript (src/errors.ts).
enum class ErrorCode : int {
  InvalidArgument = 1,  // caller passed something impossible (programming error)
  Corrupt = 2,          // bytes do not form a valid chunk
  Truncated = 3,        // bytes end before the chunk does
  Unsupported = 4,      // valid but written by a newer version / unknown method
  TooLarge = 5,         // declared sizes exceed limits
  Internal = 6,
  Model = 7,            // a PredNet chunk without its model, or with another model
  Checksum = 8,         // a container CRC-32C does not match (tezip/container.h)
  BadMagic = 9,         // not a .tez file (tezip/container.h)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& msg) : std::runtime_error(msg), code_(code) {}
  ErrorCode code() const { return code_; }
  const char* codeName() const;

 private:
  ErrorCode code_;
};

enum class DType : uint8_t { U8 = 1, U16 = 2, I16 = 3, I32 = 4, F32 = 5, F64 = 6 };
size_t dtypeSize(DType);
bool dtypeIsFloat(DType);

// Bound mode as resolved by the caller: rel and absrel are turned into an absolute bound (ebAbs) by the
// caller, who knows the value range of the whole input; the chunk codec only sees Lossless, Abs, PwRel.
enum class Mode : uint8_t { Lossless = 0, Abs = 1, PwRel = 2 };

// Predictors. Auto (requests only) picks per chunk by measured coded size. Ids are stored in chunks.
enum class Predictor : uint8_t {
  None = 0,       // x
  Prev = 1,       // x - previous frame
  Lorenzo2D = 2,  // x - (W + N - NW)
  Lorenzo3D = 3,  // 3-D Lorenzo over (t, y, x)
  PredNet = 8,    // x - PredNet's prediction of the frame (needs a model: EncodeParams::prednet)
  Auto = 255,
};

struct Shape {
  uint32_t frames = 0, height = 0, width = 0, channels = 1;
  uint64_t elements() const { return uint64_t(frames) * height * width * channels; }
};

// The most a chunk holds, in bytes of values: writers never put more in one, and readers refuse more
// (ErrorCode::TooLarge) before allocating, since a decoder's working memory is a multiple of a chunk.
constexpr uint64_t kMaxChunkBytes = uint64_t(1) << 30;

struct EncodeParams {
  DType dtype = DType::U8;
  Shape shape;
  Mode mode = Mode::Lossless;
  double ebAbs = 0;  // Mode::Abs: |x̂ - x| <= ebAbs
  double epsPw = 0;  // Mode::PwRel: |x̂ - x| <= epsPw * |x|
  Predictor predictor = Predictor::Auto;
  int level = 1;  // effort: 0 fastest, 1 default, 2 strongest
  std::shared_ptr<const PredNetModel> prednet;  // for Predictor::PredNet; Auto also tries it when set
  PredNetOptions prednetOptions;
  // Method of coded chunks (docs/FORMAT.md, "Chunk payload"): 0 auto (method 3, the fast one to decode,
  // unless method 1 measures at least 2% smaller at level >= 1), 1 or 3 to force one (tests of each path).
  uint8_t codedMethod = 0;
  uint8_t rowLanes = 0;  // method 3's rANS states: 0 auto (32, or 8 for chunks under 2^17 elements), 8, 16, 32
};

struct ChunkInfo {  // what a chunk says about itself (for `tezip info`)
  Predictor predictor;
  uint8_t method;  // see docs/FORMAT.md "chunk payload"
  uint64_t escapes;
};

// Encodes `data` (shape.elements() values of params.dtype, C order, native little-endian) into a chunk payload.
std::vector<uint8_t> encodeChunk(const void* data, const EncodeParams& params);

// Decodes a chunk payload into `out`, which holds shape.elements() values of dtype. Every length is checked.
void decodeChunk(const uint8_t* bytes, size_t size, DType dtype, const Shape& shape, void* out);
// The same, for chunks that may use Predictor::PredNet: `prednet` must be the model they were written with
// (checked by its sha256; ErrorCode::Model otherwise).
void decodeChunk(const uint8_t* bytes, size_t size, DType dtype, const Shape& shape, void* out,
                 const PredNetModel* prednet);

ChunkInfo inspectChunk(const uint8_t* bytes, size_t size);

// Minimum and maximum of the finite values (NaN/Inf ignored). Returns false when there is none.
bool valueRange(const void* data, DType dtype, uint64_t count, double* mn, double* mx);

// CRC-32C (Castagnoli), SSE4.2 when the CPU has it, table otherwise. Chainable through `crc`.
uint32_t crc32c(const uint8_t* data, size_t size, uint32_t crc = 0);

// Names of the SIMD paths this CPU uses, e.g. "sse4.2,avx2".
std::string cpuFeatures();

}  // namespace tezip
