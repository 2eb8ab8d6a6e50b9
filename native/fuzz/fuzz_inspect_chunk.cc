// libFuzzer target: tezip::inspectChunk (what `tezip info` runs on every chunk payload).
#include <vector>

#include "tezip/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> payload(data, data + size);  // exact-size copy: overreads are caught
  try {
    tezip::inspectChunk(payload.data(), payload.size());
  } catch (const tezip::Error&) {
  }
  return 0;
}
