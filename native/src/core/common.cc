#include "tezip/codec.h"

namespace tezip {

const char* Error::codeName() const {
  switch (code_) {
    case ErrorCode::InvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::Corrupt: return "CORRUPT";
    case ErrorCode::Truncated: return "TRUNCATED";
    case ErrorCode::Unsupported: return "UNSUPPORTED";
    case ErrorCode::TooLarge: return "TOO_LARGE";
    case ErrorCode::Internal: return "INTERNAL";
    case ErrorCode::Model: return "MODEL";
    case ErrorCode::Checksum: return "CHECKSUM";
    case ErrorCode::BadMagic: return "BAD_MAGIC";
  }
  return "INTERNAL";
}

size_t dtypeSize(DType t) {
  switch (t) {
    case DType::U8: return 1;
    case DType::U16:
    case DType::I16: return 2;
    case DType::I32:
    case DType::F32: return 4;
    case DType::F64: return 8;
  }
  throw Error(ErrorCode::InvalidArgument, "unknown dtype");
}

bool dtypeIsFloat(DType t) { return t == DType::F32 || t == DType::F64; }

}  // namespace tezip
