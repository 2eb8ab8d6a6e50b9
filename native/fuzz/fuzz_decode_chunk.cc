// libFuzzer target: tezip::decodeChunk on arbitrary payloads. Input = 5 shape bytes (fuzz_input.h) then
// the chunk payload. Any failure must be a tezip::Error; ASan/UBSan catch the rest. The payload is copied
// into a buffer of exactly its size so that reading one byte past it is caught.
#include <cstring>
#include <vector>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tezip_fuzz::FuzzShape fs;
  if (!tezip_fuzz::takeShape(data, size, fs, /*rawDims=*/true)) return -1;  // not added to the corpus
  std::vector<uint8_t> payload(data, data + size);
  std::vector<uint8_t> out(size_t(fs.shape.elements()) * tezip::dtypeSize(fs.dtype));
  try {
    tezip::decodeChunk(payload.data(), payload.size(), fs.dtype, fs.shape, out.data());
  } catch (const tezip::Error&) {
  }
  return 0;
}
