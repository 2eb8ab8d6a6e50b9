// Node-API glue for the tezip core: argument conversion, AsyncWorkers and error mapping only.
// Validation of user options happens in TypeScript (src/codec/options.ts); the checks here only keep a
// wrong internal call from reading or writing out of bounds.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <array>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "tezip/codec.h"

namespace {

// ---------- errors ----------

// A failure captured off the main thread, turned into a JS Error (with .code) back on it.
struct Failure {
  bool failed = false;
  std::string code;  // without the TEZ_ prefix
  std::string message;
};

Napi::Error makeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, "TEZ_" + code));
  return err;
}

// Runs fn and records whatever it throws: native code must never let an exception escape a worker thread.
template <typename Fn>
Failure capture(Fn&& fn) {
  Failure f;
  try {
    fn();
  } catch (const tezip::Error& e) {
    f = {true, e.codeName(), e.what()};
  } catch (const std::bad_alloc&) {
    f = {true, "TOO_LARGE", "out of memory"};
  } catch (const std::exception& e) {
    f = {true, "INTERNAL", e.what()};
  } catch (...) {
    f = {true, "INTERNAL", "unknown native exception"};
  }
  return f;
}

// Synchronous calls: throw the captured failure as a JS exception.
template <typename Fn>
void runSync(Napi::Env env, Fn&& fn) {
  Failure f = capture(std::forward<Fn>(fn));
  if (f.failed) throw makeError(env, f.code, f.message);
}

// ---------- argument conversion ----------

struct Bytes {
  const uint8_t* data;
  size_t size;
};

Napi::Uint8Array asUint8Array(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(v.Env(), std::string("Expected a Uint8Array for ") + what);
  }
  return v.As<Napi::Uint8Array>();
}

double getNumber(const Napi::Object& o, const char* key, bool optional = false, double def = 0) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && optional) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("Expected a number for ") + key);
  return v.As<Napi::Number>().DoubleValue();
}

uint32_t getU32(const Napi::Object& o, const char* key, bool optional = false, uint32_t def = 0) {
  double d = getNumber(o, key, optional, def);
  if (!(d >= 0 && d <= 4294967295.0) || std::floor(d) != d) {
    throw Napi::RangeError::New(o.Env(), std::string("Expected an unsigned 32-bit integer for ") + key);
  }
  return static_cast<uint32_t>(d);
}

tezip::DType toDType(Napi::Env env, uint32_t v) {
  if (v < 1 || v > 6) throw Napi::RangeError::New(env, "Unknown dtype number " + std::to_string(v));
  return static_cast<tezip::DType>(v);
}

Napi::Object asObject(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string("Expected an object for ") + what);
  return v.As<Napi::Object>();
}

tezip::Shape readShape(const Napi::Object& p) {
  tezip::Shape s;
  s.frames = getU32(p, "frames");
  s.height = getU32(p, "height");
  s.width = getU32(p, "width");
  s.channels = getU32(p, "channels", true, 1);
  return s;
}

// The "baton" of an encode: plain C++ values, safe to read from a worker thread.
// ---------- PredNet models ----------
// A loaded model travels to JS as an External holding a shared_ptr, so a chunk being coded on a worker
// thread keeps the model alive even if JS drops it meanwhile.
using ModelPtr = std::shared_ptr<const tezip::PredNetModel>;

ModelPtr getModel(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string("Expected a loaded PredNet model for ") + what);
  return *v.As<Napi::External<ModelPtr>>().Data();
}

ModelPtr optionalModel(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return getModel(v, key);
}

std::vector<uint32_t> getU32List(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("Expected an array for ") + key);
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > 64) throw Napi::RangeError::New(o.Env(), std::string("Too many entries in ") + key);
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("Expected numbers in ") + key);
    const double d = e.As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 65536) || std::floor(d) != d)
      throw Napi::RangeError::New(o.Env(), std::string("Expected small non-negative integers in ") + key);
    out.push_back(uint32_t(d));
  }
  return out;
}

// loadPredNet({stack, rStack, aFilt, ahatFilt, rFilt, pixelMax, normMin, normMax}, Float32Array, Uint8Array(32))
Napi::Value LoadPredNet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object c = asObject(info[0], "PredNet architecture");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "Expected a Float32Array of weights");
  Napi::Float32Array w = info[1].As<Napi::Float32Array>();
  Napi::Uint8Array h = asUint8Array(info[2], "sha256");
  if (h.ByteLength() != 32) throw Napi::RangeError::New(env, "Expected 32 bytes of sha256");
  tezip::PredNetConfig cfg;
  cfg.stack = getU32List(c, "stack");
  cfg.rStack = getU32List(c, "rStack");
  cfg.aFilt = getU32List(c, "aFilt");
  cfg.ahatFilt = getU32List(c, "ahatFilt");
  cfg.rFilt = getU32List(c, "rFilt");
  cfg.channels = cfg.stack.empty() ? 0 : cfg.stack[0];
  cfg.pixelMax = getNumber(c, "pixelMax");
  cfg.normMin = getNumber(c, "normMin");
  cfg.normMax = getNumber(c, "normMax");
  std::array<uint8_t, 32> sha{};
  std::memcpy(sha.data(), h.Data(), 32);
  ModelPtr m;
  runSync(env, [&] { m = tezip::makePredNetModel(cfg, std::vector<float>(w.Data(), w.Data() + w.ElementLength()), sha); });
  return Napi::External<ModelPtr>::New(env, new ModelPtr(m), [](Napi::Env, ModelPtr* p) { delete p; });
}

// predNetPredict(model, Float32Array frames (T*H*W*C, normalised), T, H, W) -> predictions, closed loop
// (the tfjs cross-check and the benchmark's TEZip-style coding use it).
Napi::Value PredNetPredict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelPtr m = getModel(info[0], "model");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "Expected a Float32Array of frames");
  Napi::Float32Array f = info[1].As<Napi::Float32Array>();
  for (int i = 2; i < 5; i++)
    if (!info[i].IsNumber()) throw Napi::TypeError::New(env, "Expected numbers for T, H, W");
  const uint32_t T = info[2].As<Napi::Number>().Uint32Value(), H = info[3].As<Napi::Number>().Uint32Value(),
                 W = info[4].As<Napi::Number>().Uint32Value();
  const size_t fl = size_t(H) * W * m->cfg.channels;
  if (!T || !fl || f.ElementLength() != size_t(T) * fl) throw Napi::RangeError::New(env, "frames do not match T, H, W");
  Napi::Float32Array out = Napi::Float32Array::New(env, size_t(T) * fl);
  runSync(env, [&] {
    tezip::PredNetRunner run(*m, H, W);
    for (uint32_t t = 0; t < T; t++) {
      std::memcpy(out.Data() + t * fl, run.predict(), fl * sizeof(float));
      run.observe(f.Data() + t * fl);
    }
  });
  return out;
}

tezip::EncodeParams readEncodeParams(const Napi::Value& v) {
  Napi::Object p = asObject(v, "encode parameters");
  Napi::Env env = p.Env();
  tezip::EncodeParams ep;
  ep.dtype = toDType(env, getU32(p, "dtype"));
  ep.shape = readShape(p);
  uint32_t mode = getU32(p, "mode", true, 0);
  if (mode > 2) throw Napi::RangeError::New(env, "Unknown mode number " + std::to_string(mode));
  ep.mode = static_cast<tezip::Mode>(mode);
  ep.ebAbs = getNumber(p, "ebAbs", true, 0);
  ep.epsPw = getNumber(p, "epsPw", true, 0);
  uint32_t pred = getU32(p, "predictor", true, 255);
  if (pred > 255) throw Napi::RangeError::New(env, "Unknown predictor number " + std::to_string(pred));
  ep.predictor = static_cast<tezip::Predictor>(pred);
  ep.level = static_cast<int>(getU32(p, "level", true, 1));
  ep.prednet = optionalModel(p, "prednet");
  ep.prednetOptions.window = getU32(p, "window", true, 0);
  ep.prednetOptions.warmup = getU32(p, "warmup", true, 0);
  ep.prednetOptions.mseThreshold = getNumber(p, "mseThreshold", true, 0);
  return ep;
}

void checkSize(Napi::Env env, size_t got, tezip::DType dtype, const tezip::Shape& shape, const char* what) {
  uint64_t elements = shape.elements();
  size_t es = tezip::dtypeSize(dtype);
  if (elements == 0 || elements > UINT64_MAX / es || got != elements * es) {
    throw Napi::RangeError::New(env, std::string("Size of ") + what + " (" + std::to_string(got) +
                                         " bytes) does not match the shape and dtype (" +
                                         std::to_string(elements) + " values of " + std::to_string(es) +
                                         " bytes)");
  }
}

Napi::Uint8Array toUint8Array(Napi::Env env, const std::vector<uint8_t>& bytes) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, bytes.size());
  if (!bytes.empty()) std::memcpy(out.Data(), bytes.data(), bytes.size());
  return out;
}

// ---------- workers ----------

// Base of the promise-returning workers: keeps the JS buffers alive while the work runs and turns a
// captured failure into a rejection whose error carries .code.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Keep(const Napi::Value& v) { refs_.emplace_back(Napi::Persistent(v)); }

 protected:
  void Execute() final {
    failure_ = capture([this] { Work(); });
    if (failure_.failed) SetError(failure_.message);
  }

  void OnError(const Napi::Error&) final {
    Napi::HandleScope scope(Env());
    deferred_.Reject(makeError(Env(), failure_.code, failure_.message).Value());
  }

  void OnOK() final {
    Napi::HandleScope scope(Env());
    deferred_.Resolve(Result());
  }

  virtual void Work() = 0;
  virtual Napi::Value Result() = 0;

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
  Failure failure_;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, Bytes in, tezip::EncodeParams params)
      : PromiseWorker(env), in_(in), params_(params) {}

 protected:
  void Work() override { out_ = tezip::encodeChunk(in_.data, params_); }
  Napi::Value Result() override { return toUint8Array(Env(), out_); }

 private:
  Bytes in_;
  tezip::EncodeParams params_;
  std::vector<uint8_t> out_;
};

class DecodeWorker : public PromiseWorker {
 public:
  DecodeWorker(Napi::Env env, Bytes in, tezip::DType dtype, tezip::Shape shape, uint8_t* out, ModelPtr model)
      : PromiseWorker(env), in_(in), dtype_(dtype), shape_(shape), out_(out), model_(std::move(model)) {}

 protected:
  void Work() override { tezip::decodeChunk(in_.data, in_.size, dtype_, shape_, out_, model_.get()); }
  Napi::Value Result() override { return Env().Undefined(); }

 private:
  Bytes in_;
  tezip::DType dtype_;
  tezip::Shape shape_;
  uint8_t* out_;
  ModelPtr model_;
};

class ValueRangeWorker : public PromiseWorker {
 public:
  ValueRangeWorker(Napi::Env env, Bytes in, tezip::DType dtype, uint64_t count)
      : PromiseWorker(env), in_(in), dtype_(dtype), count_(count) {}

 protected:
  void Work() override { found_ = tezip::valueRange(in_.data, dtype_, count_, &mn_, &mx_); }
  Napi::Value Result() override;

 private:
  Bytes in_;
  tezip::DType dtype_;
  uint64_t count_;
  bool found_ = false;
  double mn_ = 0, mx_ = 0;
};

Napi::Value rangeValue(Napi::Env env, bool found, double mn, double mx) {
  if (!found) return env.Null();
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(uint32_t(0), Napi::Number::New(env, mn));
  a.Set(uint32_t(1), Napi::Number::New(env, mx));
  return a;
}

Napi::Value ValueRangeWorker::Result() { return rangeValue(Env(), found_, mn_, mx_); }

// ---------- exported functions ----------

Bytes bytesOf(const Napi::Uint8Array& a) { return {a.Data(), a.ByteLength()}; }

Napi::Value EncodeChunk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array data = asUint8Array(info[0], "data");
  tezip::EncodeParams params = readEncodeParams(info[1]);
  checkSize(env, data.ByteLength(), params.dtype, params.shape, "data");
  std::vector<uint8_t> out;
  runSync(env, [&] { out = tezip::encodeChunk(data.Data(), params); });
  return toUint8Array(env, out);
}

Napi::Value EncodeChunkAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array data = asUint8Array(info[0], "data");
  tezip::EncodeParams params = readEncodeParams(info[1]);
  checkSize(env, data.ByteLength(), params.dtype, params.shape, "data");
  auto* w = new EncodeWorker(env, bytesOf(data), params);
  w->Keep(data);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

struct DecodeArgs {
  Napi::Uint8Array payload, out;
  tezip::DType dtype;
  tezip::Shape shape;
  ModelPtr model;
};

DecodeArgs readDecodeArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecodeArgs a{asUint8Array(info[0], "payload"), asUint8Array(info[2], "out"), tezip::DType::U8, {}};
  Napi::Object p = asObject(info[1], "decode parameters");
  a.dtype = toDType(env, getU32(p, "dtype"));
  a.shape = readShape(p);
  a.model = optionalModel(p, "prednet");
  checkSize(env, a.out.ByteLength(), a.dtype, a.shape, "out");
  return a;
}

Napi::Value DecodeChunk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecodeArgs a = readDecodeArgs(info);
  runSync(env, [&] { tezip::decodeChunk(a.payload.Data(), a.payload.ByteLength(), a.dtype, a.shape, a.out.Data(), a.model.get()); });
  return env.Undefined();
}

Napi::Value DecodeChunkAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DecodeArgs a = readDecodeArgs(info);
  auto* w = new DecodeWorker(env, bytesOf(a.payload), a.dtype, a.shape, a.out.Data(), a.model);
  w->Keep(a.payload);
  w->Keep(a.out);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value InspectChunk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array payload = asUint8Array(info[0], "payload");
  tezip::ChunkInfo ci{};
  runSync(env, [&] { ci = tezip::inspectChunk(payload.Data(), payload.ByteLength()); });
  Napi::Object o = Napi::Object::New(env);
  o.Set("predictor", Napi::Number::New(env, static_cast<double>(ci.predictor)));
  o.Set("method", Napi::Number::New(env, ci.method));
  o.Set("escapes", Napi::Number::New(env, static_cast<double>(ci.escapes)));
  return o;
}

struct RangeArgs {
  Napi::Uint8Array data;
  tezip::DType dtype;
  uint64_t count;
};

RangeArgs readRangeArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array data = asUint8Array(info[0], "data");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "Expected a dtype number");
  tezip::DType dtype = toDType(env, info[1].As<Napi::Number>().Uint32Value());
  size_t es = tezip::dtypeSize(dtype);
  if (data.ByteLength() % es != 0) throw Napi::RangeError::New(env, "data length is not a multiple of the dtype size");
  return {data, dtype, data.ByteLength() / es};
}

Napi::Value ValueRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RangeArgs a = readRangeArgs(info);
  bool found = false;
  double mn = 0, mx = 0;
  runSync(env, [&] { found = tezip::valueRange(a.data.Data(), a.dtype, a.count, &mn, &mx); });
  return rangeValue(env, found, mn, mx);
}

Napi::Value ValueRangeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RangeArgs a = readRangeArgs(info);
  auto* w = new ValueRangeWorker(env, bytesOf(a.data), a.dtype, a.count);
  w->Keep(a.data);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = asUint8Array(info[0], "bytes");
  uint32_t seed = 0;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "Expected a number for seed");
    seed = info[1].As<Napi::Number>().Uint32Value();
  }
  uint32_t crc = 0;
  runSync(env, [&] { crc = tezip::crc32c(bytes.Data(), bytes.ByteLength(), seed); });
  return Napi::Number::New(env, static_cast<double>(crc));
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string s;
  runSync(env, [&] { s = tezip::cpuFeatures(); });
  return Napi::String::New(env, s);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("encodeChunk", Napi::Function::New(env, EncodeChunk, "encodeChunk"));
  exports.Set("encodeChunkAsync", Napi::Function::New(env, EncodeChunkAsync, "encodeChunkAsync"));
  exports.Set("decodeChunk", Napi::Function::New(env, DecodeChunk, "decodeChunk"));
  exports.Set("decodeChunkAsync", Napi::Function::New(env, DecodeChunkAsync, "decodeChunkAsync"));
  exports.Set("inspectChunk", Napi::Function::New(env, InspectChunk, "inspectChunk"));
  exports.Set("valueRange", Napi::Function::New(env, ValueRange, "valueRange"));
  exports.Set("valueRangeAsync", Napi::Function::New(env, ValueRangeAsync, "valueRangeAsync"));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures, "cpuFeatures"));
  exports.Set("loadPredNet", Napi::Function::New(env, LoadPredNet, "loadPredNet"));
  exports.Set("predNetPredict", Napi::Function::New(env, PredNetPredict, "predNetPredict"));
  exports.Set("predNetKernelPath", Napi::Function::New(env, [](const Napi::CallbackInfo& i) {
    return Napi::String::New(i.Env(), tezip::predNetKernelPath());
  }, "predNetKernelPath"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tezip, Init)
