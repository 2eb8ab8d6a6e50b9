// The generic chunk compressor: predictor -> quantizer -> token/context rANS (+ zstd where it pays),
// with a stored fallback. Predictors and quantizers are independent stages (predict/, quantize/); this
// file only composes them, picks the cheapest combination per chunk, and lays out the payload
// (docs/FORMAT.md, "Chunk payload").
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "../entropy/rans.h"
#include "../entropy/rans_rows.h"
#include "../entropy/zstd_stage.h"
#include "../predict/predictors.h"
#include "../predict/prednet/codec_loop.h"
#include "../predict/residuals.h"
#include "../quantize/abs.h"
#include "../quantize/grid.h"
#include "../quantize/lossless.h"
#include "../quantize/pwrel.h"
#include "bytes.h"
#include "tezip/codec.h"

namespace tezip {
namespace {

constexpr uint8_t kPayloadVersion = 1;
enum Method : uint8_t { kStored = 0, kCoded = 1, kZstdRaw = 2, kCodedRows = 3 };
enum QuantId : uint8_t { kQLossless = 0, kQAbsInt = 1, kQAbsFloat = 2, kQPwRel = 3, kQGrid = 4 };

Geometry geometryOf(const Shape& s) { return Geometry{size_t(s.width) * s.channels, s.channels, s.height}; }

struct Streams {
  std::vector<uint16_t> tok;
  BitWriter extras;
  std::vector<uint8_t> esc;
  uint64_t nesc = 0;
  std::vector<uint64_t> escAt;  // grid quantizer: where the escapes are (others mark them with token 0)
};

// Closed-loop path (every quantizer): predictor PK and quantizer q over `frames` frames, producing tokens,
// extra bits and escapes. Row loops are instantiated per edge case so the inner loop has no edge tests.
template <Predictor PK, bool W, bool N, bool P, class T, class Q>
inline void encodeOne(const T* xf, typename Q::A* cur, const typename Q::A* prev, size_t j, const Geometry& g, Q& q,
                      uint16_t* tk, Streams& s) {
  const typename Q::A p = predict<PK, W, N, P>(cur, prev, j, g.chans, g.rowLen);
  uint64_t v;
  if (q.encode(xf[j], p, cur[j], v)) {
    const Token k = tokenize(v);
    tk[j] = k.tok;
    if (k.nextra) s.extras.put(k.extra, k.nextra);
    if (q.sideBits) s.extras.put(q.side, q.sideBits);
  } else {
    tk[j] = kEscToken;
    const uint8_t* raw = reinterpret_cast<const uint8_t*>(xf + j);
    s.esc.insert(s.esc.end(), raw, raw + sizeof(T));
    s.nesc++;
  }
}

template <Predictor PK, bool N, bool P, class T, class Q>
void encodeRow(const T* xf, typename Q::A* cur, const typename Q::A* prev, size_t base, const Geometry& g, Q& q,
               uint16_t* tk, Streams& s) {
  const size_t c = g.chans < g.rowLen ? g.chans : g.rowLen;
  for (size_t j = base; j < base + c; j++) encodeOne<PK, false, N, P>(xf, cur, prev, j, g, q, tk, s);
  for (size_t j = base + c; j < base + g.rowLen; j++) encodeOne<PK, true, N, P>(xf, cur, prev, j, g, q, tk, s);
}

template <Predictor PK, class T, class Q>
void runEncode(const T* x, size_t frames, const Geometry& g, Q& q, Streams& s) {
  using A = typename Q::A;
  const size_t fl = g.frameLen();
  std::vector<A> ba(fl), bb(fl);
  A* cur = ba.data();
  A* prev = bb.data();
  s.tok.resize(frames * fl);
  for (size_t t = 0; t < frames; t++) {
    if (t) std::swap(cur, prev);
    const T* xf = x + t * fl;
    uint16_t* tk = s.tok.data() + t * fl;
    for (size_t y = 0; y < g.rows; y++) {
      const size_t base = y * g.rowLen;
      if (t == 0) {
        if (y == 0) encodeRow<PK, false, false>(xf, cur, prev, base, g, q, tk, s);
        else encodeRow<PK, true, false>(xf, cur, prev, base, g, q, tk, s);
      } else {
        if (y == 0) encodeRow<PK, false, true>(xf, cur, prev, base, g, q, tk, s);
        else encodeRow<PK, true, true>(xf, cur, prev, base, g, q, tk, s);
      }
    }
  }
}

// PredNet (predict/prednet/codec_loop.h): the model and options of the chunk being coded, set by
// encodeChunk/decodeChunk for the duration of the call (chunks are coded one per thread, so a thread-local
// keeps the model out of every signature between here and the row loops).
struct PredNetUse {
  const PredNetModel* model = nullptr;
  PredNetOptions opt;
};
thread_local const PredNetUse* tPredNet = nullptr;
struct PredNetScope {
  explicit PredNetScope(const PredNetUse* u) { tPredNet = u; }
  ~PredNetScope() { tPredNet = nullptr; }
};
const PredNetUse& predNetUse() {
  if (!tPredNet || !tPredNet->model) throw Error(ErrorCode::InvalidArgument, "predictor prednet needs a model");
  return *tPredNet;
}

// The previous-frame rule with PredNet's prediction as the previous frame (or the real previous frame during
// warm-up, or intra coding for key frames).
template <class T, class Q>
void runEncodePredNet(const T* x, size_t frames, const Geometry& g, Q& q, Streams& s) {
  using A = typename Q::A;
  const PredNetUse& u = predNetUse();
  const size_t fl = g.frameLen();
  if (g.chans != u.model->cfg.channels)
    throw Error(ErrorCode::Model, "the PredNet model takes " + std::to_string(u.model->cfg.channels) +
                                      " channel(s), the frames have " + std::to_string(g.chans));
  prednet::CodecLoop<Q> loop(*u.model, u.opt, uint32_t(g.rows), uint32_t(g.rowLen / g.chans), q);
  std::vector<A> ba(fl), bb(fl);
  A* cur = ba.data();
  A* prev = bb.data();
  s.tok.resize(frames * fl);
  for (size_t t = 0; t < frames; t++) {
    if (t) std::swap(cur, prev);
    const A* ref = loop.before(t, prev);
    const T* xf = x + t * fl;
    uint16_t* tk = s.tok.data() + t * fl;
    for (size_t y = 0; y < g.rows; y++) {
      const size_t base = y * g.rowLen;
      if (!ref) {
        if (y == 0) encodeRow<Predictor::Prev, false, false>(xf, cur, prev, base, g, q, tk, s);
        else encodeRow<Predictor::Prev, true, false>(xf, cur, prev, base, g, q, tk, s);
      } else {
        if (y == 0) encodeRow<Predictor::Prev, false, true>(xf, cur, ref, base, g, q, tk, s);
        else encodeRow<Predictor::Prev, true, true>(xf, cur, ref, base, g, q, tk, s);
      }
    }
    loop.after(cur);
  }
}

template <class T, class Q>
void encodeWith(Predictor pk, const T* x, size_t frames, const Geometry& g, Q& q, Streams& s) {
  switch (pk) {
    case Predictor::PredNet: return runEncodePredNet(x, frames, g, q, s);
    case Predictor::None: return runEncode<Predictor::None>(x, frames, g, q, s);
    case Predictor::Prev: return runEncode<Predictor::Prev>(x, frames, g, q, s);
    case Predictor::Lorenzo2D: return runEncode<Predictor::Lorenzo2D>(x, frames, g, q, s);
    default: return runEncode<Predictor::Lorenzo3D>(x, frames, g, q, s);
  }
}

// Decodes one frame of tokens; `emit(j, sym)` turns each into a value (reading its extra bits). mcur and
// mprev hold the token magnitudes the contexts are made of (mprev null for a chunk's first frame).
template <class F>
inline void decodeFrameTokens(RansDecoder& dec, uint8_t* mcur, const uint8_t* mprev, const Geometry& g, F& emit) {
  RansDecoder::Cursor c = dec.cursor();
  // A decoded symbol: checked, its magnitude kept for the contexts after it (and returned), handed on.
  auto land = [&](size_t j, unsigned sym) __attribute__((always_inline)) {
    if (__builtin_expect(sym >= kAlphabet, 0)) throw Error(ErrorCode::Corrupt, "entropy-coded stream is corrupt");
    const unsigned mg = tokMag(uint16_t(sym));
    mcur[j] = uint8_t(mg);
    emit(j, sym);
    return mg;
  };
  auto step = [&](size_t j, unsigned ctx) __attribute__((always_inline)) { land(j, c.next(ctx)); };
  if (g.chans != 1 || g.rowLen < 4) {  // the general rule (rans.h forEachFrameContext)
    forEachFrameContext(mcur, mprev, g, step);
    dec.commit(c);
    return;
  }
  // One channel, the common case, with the same contexts computed in two parts: what comes from the row above
  // and the previous frame, for the whole row at once (a loop that vectorises, off the decoder's critical
  // path), and the west-of-west magnitude, which the symbol two back (the same rANS state's previous one)
  // hands over in a register instead of through a store and a reload.
  const size_t W = g.rowLen;
  std::vector<uint16_t> partBuf(W);
  uint16_t* part = partBuf.data();
  for (size_t y = 0; y < g.rows; y++) {
    const size_t base = y * W;
    rowContextParts(mcur + base, mprev ? mprev + base : nullptr, y, W, part);
    unsigned m2 = 0, m1 = 0;  // magnitudes two back and one back
    for (size_t x = 0; x < 2; x++) {
      const unsigned mg = land(base + x, c.next(kBuckets.b[part[x]]));
      m2 = m1;
      m1 = mg;
    }
    if (size_t(c.end - c.p) >= 2 * W) {
      // Every step of the row has its two stream bytes: no bounds tests, and the columns in pairs, so that
      // each pair's west-of-west magnitudes are the previous pair's, with nothing to shuffle between them.
      size_t x = 2;
      for (; x + 1 < W; x += 2) {
        m2 = land(base + x, c.nextRoomy(kBuckets.b[part[x] + m2]));
        m1 = land(base + x + 1, c.nextRoomy(kBuckets.b[part[x + 1] + m1]));
      }
      if (x < W) land(base + x, c.nextRoomy(kBuckets.b[part[x] + m2]));
      continue;
    }
    for (size_t x = 2; x < W; x++) {
      const unsigned mg = land(base + x, c.next(kBuckets.b[part[x] + m2]));
      m2 = m1;
      m1 = mg;
    }
  }
  dec.commit(c);
}

// Method 3: the rows of one frame. Row y's tokens go to tok + y·step (step 0: one row buffer reused), its
// magnitudes to mcur; then done(y, tokens of row y).
struct RowScratch {
  std::vector<uint16_t> sums;  // one row's context sums
  explicit RowScratch(const Geometry& g) : sums(g.rowLen) {}
};
template <class F>
inline void decodeFrameRows(RowRansDecoder& dec, uint8_t* mcur, const uint8_t* mprev, const Geometry& g,
                            RowScratch& sc, uint16_t* tok, size_t step, F& done) {
  const size_t R = g.rowLen;
  for (size_t y = 0; y < g.rows; y++) {
    rowContextSums(mcur, mprev, y, g, sc.sums.data());
    uint16_t* tk = tok + y * step;
    dec.decodeRow(sc.sums.data(), R, tk);
    uint8_t* m = mcur + y * R;
    for (size_t j = 0; j < R; j++) m[j] = tokMag(tk[j]);
    done(y, tk);
  }
}

// A frame's tokens into tcur (frame-sized), whichever coder the chunk uses (method 1 needs no scratch).
inline void decodeFrameInto(RansDecoder& dec, uint8_t* mcur, const uint8_t* mprev, const Geometry& g,
                            uint16_t* tcur, RowScratch&) {
  auto keep = [tcur](size_t j, unsigned sym) { tcur[j] = uint16_t(sym); };
  decodeFrameTokens(dec, mcur, mprev, g, keep);
}
inline void decodeFrameInto(RowRansDecoder& dec, uint8_t* mcur, const uint8_t* mprev, const Geometry& g,
                            uint16_t* tcur, RowScratch& sc) {
  auto none = [](size_t, const uint16_t*) {};
  decodeFrameRows(dec, mcur, mprev, g, sc, tcur, g.rowLen, none);
}

inline uint64_t tokenValue(unsigned sym, BitReader& extras) {
  return sym <= 16 ? sym - 1u : tokenBase(sym) + extras.get(tokenExtraBits(sym));
}

template <Predictor PK, bool W, bool N, bool P, class T, class Q>
inline void decodeOne(const uint16_t* tcur, typename Q::A* cur, const typename Q::A* prev, size_t j,
                      const Geometry& g, Q& q, BitReader& extras, ByteReader& esc, T* of) {
  const typename Q::A p = predict<PK, W, N, P>(cur, prev, j, g.chans, g.rowLen);
  const unsigned tk = tcur[j];
  if (tk == kEscToken) {
    T raw;
    std::memcpy(&raw, esc.take(sizeof(T)), sizeof(T));
    of[j] = q.decodeEscape(raw, p, cur[j]);
  } else {
    of[j] = q.decode(tokenValue(tk, extras), p, cur[j], extras);
  }
}

template <Predictor PK, bool N, bool P, class T, class Q>
void decodeRow(const uint16_t* tcur, typename Q::A* cur, const typename Q::A* prev, size_t base, const Geometry& g,
               Q& q, BitReader& extras, ByteReader& esc, T* of) {
  const size_t c = g.chans < g.rowLen ? g.chans : g.rowLen;
  for (size_t j = base; j < base + c; j++) decodeOne<PK, false, N, P>(tcur, cur, prev, j, g, q, extras, esc, of);
  for (size_t j = base + c; j < base + g.rowLen; j++)
    decodeOne<PK, true, N, P>(tcur, cur, prev, j, g, q, extras, esc, of);
}

template <Predictor PK, class D, class T, class Q>
void runDecode(D& dec, BitReader& extras, ByteReader& esc, size_t frames, const Geometry& g, Q& q,
               T* out) {
  using A = typename Q::A;
  const size_t fl = g.frameLen();
  std::vector<A> ba(fl), bb(fl);
  std::vector<uint8_t> ma(fl), mb(fl);
  std::vector<uint16_t> tokens(fl);
  A* cur = ba.data();
  A* prev = bb.data();
  uint8_t* mcur = ma.data();
  uint8_t* mprev = mb.data();
  uint16_t* tcur = tokens.data();
  RowScratch sc(g);
  for (size_t t = 0; t < frames; t++) {
    if (t) {
      std::swap(cur, prev);
      std::swap(mcur, mprev);
    }
    decodeFrameInto(dec, mcur, t ? mprev : nullptr, g, tcur, sc);
    T* of = out + t * fl;
    for (size_t y = 0; y < g.rows; y++) {
      const size_t base = y * g.rowLen;
      if (t == 0) {
        if (y == 0) decodeRow<PK, false, false>(tcur, cur, prev, base, g, q, extras, esc, of);
        else decodeRow<PK, true, false>(tcur, cur, prev, base, g, q, extras, esc, of);
      } else {
        if (y == 0) decodeRow<PK, false, true>(tcur, cur, prev, base, g, q, extras, esc, of);
        else decodeRow<PK, true, true>(tcur, cur, prev, base, g, q, extras, esc, of);
      }
    }
  }
}

template <class D, class T, class Q>
void runDecodePredNet(D& dec, BitReader& extras, ByteReader& esc, size_t frames, const Geometry& g, Q& q,
                      T* out) {
  using A = typename Q::A;
  const PredNetUse& u = predNetUse();
  const size_t fl = g.frameLen();
  if (g.chans != u.model->cfg.channels)
    throw Error(ErrorCode::Model, "the PredNet model takes " + std::to_string(u.model->cfg.channels) +
                                      " channel(s), the frames have " + std::to_string(g.chans));
  prednet::CodecLoop<Q> loop(*u.model, u.opt, uint32_t(g.rows), uint32_t(g.rowLen / g.chans), q);
  std::vector<A> ba(fl), bb(fl);
  std::vector<uint8_t> ma(fl), mb(fl);
  std::vector<uint16_t> tokens(fl);
  A* cur = ba.data();
  A* prev = bb.data();
  uint8_t* mcur = ma.data();
  uint8_t* mprev = mb.data();
  uint16_t* tcur = tokens.data();
  RowScratch sc(g);
  for (size_t t = 0; t < frames; t++) {
    if (t) {
      std::swap(cur, prev);
      std::swap(mcur, mprev);
    }
    decodeFrameInto(dec, mcur, t ? mprev : nullptr, g, tcur, sc);
    const A* ref = loop.before(t, prev);
    T* of = out + t * fl;
    for (size_t y = 0; y < g.rows; y++) {
      const size_t base = y * g.rowLen;
      if (!ref) {
        if (y == 0) decodeRow<Predictor::Prev, false, false>(tcur, cur, prev, base, g, q, extras, esc, of);
        else decodeRow<Predictor::Prev, true, false>(tcur, cur, prev, base, g, q, extras, esc, of);
      } else {
        if (y == 0) decodeRow<Predictor::Prev, false, true>(tcur, cur, ref, base, g, q, extras, esc, of);
        else decodeRow<Predictor::Prev, true, true>(tcur, cur, ref, base, g, q, extras, esc, of);
      }
    }
    loop.after(cur);
  }
}

template <class D, class T, class Q>
void decodeWith(Predictor pk, D& dec, BitReader& extras, ByteReader& esc, size_t frames,
                const Geometry& g, Q& q, T* out) {
  switch (pk) {
    case Predictor::PredNet: return runDecodePredNet(dec, extras, esc, frames, g, q, out);
    case Predictor::None: return runDecode<Predictor::None>(dec, extras, esc, frames, g, q, out);
    case Predictor::Prev: return runDecode<Predictor::Prev>(dec, extras, esc, frames, g, q, out);
    case Predictor::Lorenzo2D: return runDecode<Predictor::Lorenzo2D>(dec, extras, esc, frames, g, q, out);
    case Predictor::Lorenzo3D: return runDecode<Predictor::Lorenzo3D>(dec, extras, esc, frames, g, q, out);
    default: throw Error(ErrorCode::Unsupported, "chunk uses an unknown predictor");
  }
}

template <class U>
void fieldEncode(U* k, size_t frames, const Geometry& g, unsigned bits, Predictor pk, Streams& s);

// The grid quantization of a sample, kept while the encoder measures each predictor on it.
struct GridMemo {
  bool done = false, fits = false;
  GridParams gp;
  std::vector<uint8_t> u;  // the integers, as bytes of the dtype's unsigned type
  std::vector<uint64_t> escAt;
};
template <class U>
void fieldDecode(RansDecoder& dec, BitReader& extras, size_t frames, const Geometry& g, Predictor pk, U* r);
template <class U>
void fieldDecode(RowRansDecoder& dec, BitReader& extras, size_t frames, const Geometry& g, Predictor pk, U* r);

// Lossless fast path: same tokens as LosslessQuantizer through the closed loop, but residuals come from
// whole-array finite differences (predict/residuals.h) and decoding inverts them with prefix sums.
template <class T>
void losslessEncode(const T* x, size_t frames, const Geometry& g, const LosslessParams& prm, Predictor pk,
                    Streams& s) {
  using U = typename OrderedBits<T>::U;
  const size_t n = frames * g.frameLen();
  std::vector<U> k(n);
  const U minQ = U(prm.minQ);
  if (prm.step == 1) {
    for (size_t i = 0; i < n; i++) k[i] = U(U(OrderedBits<T>::to(x[i])) - minQ);
  } else {
    const U step = U(prm.step);
    for (size_t i = 0; i < n; i++) k[i] = U(U(U(OrderedBits<T>::to(x[i])) - minQ) / step);
  }
  fieldEncode(k.data(), frames, g, prm.bits, pk, s);
}

// An integer field u (values below 2^bits) through the finite-difference predictor pk into tokens: the
// lossless path and the grid quantizer share it. u is overwritten with the residuals.
template <class U>
void fieldEncode(U* k, size_t frames, const Geometry& g, unsigned bits, Predictor pk, Streams& s) {
  const size_t n = frames * g.frameLen();
  forwardResiduals(k, Layout{frames, g.rows, g.rowLen, g.chans}, pk);
  s.tok.resize(n);
  const uint64_t mask = bits >= 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  const unsigned sh = 64 - bits;
  for (size_t i = 0; i < n; i++) {
    const int64_t r = int64_t((uint64_t(k[i]) & mask) << sh) >> sh;  // sign-extend from prm.bits
    const uint64_t v = zigzag(r);
    if (v < 16) {
      s.tok[i] = uint16_t(v + 1);
    } else {
      const Token t = tokenize(v);
      s.tok[i] = t.tok;
      s.extras.put(t.extra, t.nextra);
    }
  }
}

template <class D, class T>
void losslessDecode(D& dec, BitReader& extras, size_t frames, const Geometry& g, const LosslessParams& prm,
                    Predictor pk, T* out) {
  using U = typename OrderedBits<T>::U;
  const size_t n = frames * g.frameLen();
  U* r = reinterpret_cast<U*>(out);  // residuals, then values, in the output buffer itself
  fieldDecode(dec, extras, frames, g, pk, r);
  const U mask = U(prm.mask()), minQ = U(prm.minQ), step = U(prm.step);
  if (step == 1) {
    for (size_t i = 0; i < n; i++) out[i] = OrderedBits<T>::from(U(U(r[i] & mask) + minQ));
  } else {
    // (the product in 64 bits: a uint16_t one would be an int, which a hostile step overflows)
    for (size_t i = 0; i < n; i++) out[i] = OrderedBits<T>::from(U(U(uint64_t(r[i] & mask) * step) + minQ));
  }
}

// Tokens -> residuals -> the integer field (wrapping; the caller masks it to its bits), in r.
template <class U>
void fieldDecode(RansDecoder& dec, BitReader& extras, size_t frames, const Geometry& g, Predictor pk, U* r) {
  const size_t fl = g.frameLen();
  std::vector<uint8_t> ma(fl), mb(fl);
  uint8_t* mcur = ma.data();
  uint8_t* mprev = mb.data();
  for (size_t t = 0; t < frames; t++) {
    if (t) std::swap(mcur, mprev);
    U* const rf = r + t * fl;  // by value: one load fewer per symbol than through a captured reference
    auto put = [rf, &extras](size_t j, unsigned sym) __attribute__((always_inline)) {
      if (__builtin_expect(sym == kEscToken, 0)) throw Error(ErrorCode::Corrupt, "escape in a lossless chunk");
      rf[j] = U(unzigzag(tokenValue(sym, extras)));
    };
    decodeFrameTokens(dec, mcur, t ? mprev : nullptr, g, put);
  }
  inverseResiduals(r, Layout{frames, g.rows, g.rowLen, g.chans}, pk);
}

// Method 3: each row's tokens become residuals while the row is in cache; blocks of 64 whose tokens are
// all 1 … 16 (no extra bits) go through a loop that vectorises.
template <class U>
void fieldDecode(RowRansDecoder& dec, BitReader& extras, size_t frames, const Geometry& g, Predictor pk, U* r) {
  const size_t fl = g.frameLen(), R = g.rowLen;
  std::vector<uint8_t> ma(fl), mb(fl);
  std::vector<uint16_t> row(R);
  RowScratch sc(g);
  uint8_t* mcur = ma.data();
  uint8_t* mprev = mb.data();
  for (size_t t = 0; t < frames; t++) {
    if (t) std::swap(mcur, mprev);
    U* const rf = r + t * fl;
    auto toResiduals = [rf, R, &extras](size_t y, const uint16_t* tk) __attribute__((always_inline)) {
      U* out = rf + y * R;
      for (size_t b = 0; b < R; b += 64) {
        const size_t e = std::min(R, b + 64);
        unsigned wide = 0;
        for (size_t j = b; j < e; j++) wide |= unsigned(tk[j] - 1u) >= 16u;
        if (!wide) {
          for (size_t j = b; j < e; j++) {
            const U v = U(tk[j] - 1u);
            out[j] = U(U(v >> 1) ^ U(U(0) - U(v & 1u)));
          }
          continue;
        }
        for (size_t j = b; j < e; j++) {
          const unsigned sym = tk[j];
          if (__builtin_expect(sym == kEscToken, 0)) throw Error(ErrorCode::Corrupt, "escape in a lossless chunk");
          out[j] = U(unzigzag(tokenValue(sym, extras)));
        }
      }
    };
    decodeFrameRows(dec, mcur, t ? mprev : nullptr, g, sc, row.data(), 0, toResiduals);
  }
  inverseResiduals(r, Layout{frames, g.rows, g.rowLen, g.chans}, pk);
}

// Grid quantizer (quantize/grid.h): false when the grid does not fit the data.
template <class T>
bool gridEncode(const T* x, size_t frames, const Geometry& g, double eb, GridParams& gp, Predictor pk, Streams& s,
                GridMemo* memo) {
  using U = typename OrderedBits<T>::U;
  const size_t n = frames * g.frameLen();
  std::vector<U> u;
  if (memo && memo->done) {  // the same values under another predictor: the grid is the same
    if (!memo->fits) return false;
    gp = memo->gp;
    s.escAt = memo->escAt;
    u.resize(n);
    std::memcpy(u.data(), memo->u.data(), n * sizeof(U));
  } else {
    const bool fits = gridQuantize(x, n, eb, gp, u, s.escAt);
    if (memo) {
      memo->done = true;
      memo->fits = fits;
      memo->gp = gp;
      memo->escAt = s.escAt;
      if (fits) memo->u.assign(reinterpret_cast<const uint8_t*>(u.data()), reinterpret_cast<const uint8_t*>(u.data() + n));
    }
    if (!fits) return false;
  }
  for (uint64_t i : s.escAt) {
    const uint8_t* raw = reinterpret_cast<const uint8_t*>(x + i);
    s.esc.insert(s.esc.end(), raw, raw + sizeof(T));
  }
  s.nesc = s.escAt.size();
  fieldEncode(u.data(), frames, g, gp.bits, pk, s);
  return true;
}

template <class D, class T>
void gridDecode(D& dec, BitReader& extras, ByteReader& esc, ByteReader& at, uint64_t nesc, size_t frames,
                const Geometry& g, const GridParams& gp, Predictor pk, T* out) {
  using U = typename OrderedBits<T>::U;
  const size_t n = frames * g.frameLen();
  U* r = reinterpret_cast<U*>(out);
  fieldDecode(dec, extras, frames, g, pk, r);
  const uint64_t mask = (uint64_t(1) << gp.bits) - 1;
  for (size_t i = 0; i < n; i++) out[i] = gridValue<T>(gp.minK, uint64_t(r[i]) & mask, gp.bin);
  uint64_t pos = 0;
  for (uint64_t e = 0; e < nesc; e++) {
    const uint64_t gap = at.varint();
    if (gap >= n || (pos += gap + (e ? 1 : 0)) >= n) throw Error(ErrorCode::Corrupt, "escape position outside the chunk");
    std::memcpy(out + pos, esc.take(sizeof(T)), sizeof(T));
  }
}

// A quantizer choice with its parameters, serialisable into the payload.
struct QuantChoice {
  QuantId id = kQLossless;
  LosslessParams lossless;
  int64_t e = 0;       // AbsInt
  double eb = 0;       // AbsFloat
  double eps = 0, bin = 0;  // PwRel (bin: also AbsFloat's)
  SignMode signs = SignMode::Positive;
  GridParams grid;          // Grid: bin, and minK/bits once the chunk is quantized (eb as AbsFloat)

  void write(ByteWriter& w) const {
    w.u8(id);
    switch (id) {
      case kQLossless:
        w.le<uint64_t>(lossless.minQ);
        w.le<uint64_t>(lossless.step);
        w.u8(lossless.bits);
        break;
      case kQAbsInt: w.le<uint64_t>(uint64_t(e)); break;
      case kQAbsFloat: w.f64(bin); break;
      case kQPwRel:
        w.f64(bin);
        w.u8(uint8_t(signs));
        break;
      case kQGrid:
        w.f64(grid.bin);
        w.le<uint64_t>(uint64_t(grid.minK));
        w.u8(grid.bits);
        break;
    }
  }
  static QuantChoice read(ByteReader& r, DType dt) {
    QuantChoice c;
    const uint8_t id = r.u8();
    const bool fl = dtypeIsFloat(dt);
    switch (id) {
      case kQLossless:
        c.id = kQLossless;
        c.lossless.minQ = r.le<uint64_t>();
        c.lossless.step = r.le<uint64_t>();
        c.lossless.bits = r.u8();
        if (c.lossless.step == 0 || c.lossless.bits == 0 || c.lossless.bits > 8 * dtypeSize(dt))
          throw Error(ErrorCode::Corrupt, "bad lossless parameters");
        break;
      case kQAbsInt:
        if (fl) throw Error(ErrorCode::Corrupt, "integer quantizer on float data");
        c.id = kQAbsInt;
        c.e = int64_t(r.le<uint64_t>());
        if (c.e < 1 || c.e > (int64_t(1) << 40)) throw Error(ErrorCode::Corrupt, "bad error bound");
        break;
      case kQAbsFloat:
        if (!fl) throw Error(ErrorCode::Corrupt, "float quantizer on integer data");
        c.id = kQAbsFloat;
        c.bin = r.f64();
        if (!(c.bin > 0) || !std::isfinite(c.bin)) throw Error(ErrorCode::Corrupt, "bad error bound");
        break;
      case kQPwRel: {
        c.id = kQPwRel;
        c.bin = r.f64();
        const uint8_t s = r.u8();
        if (!(c.bin > 0) || !std::isfinite(c.bin) || s > 2) throw Error(ErrorCode::Corrupt, "bad pwrel parameters");
        c.signs = SignMode(s);
        break;
      }
      case kQGrid: {
        if (!fl) throw Error(ErrorCode::Corrupt, "grid quantizer on integer data");
        c.id = kQGrid;
        c.grid.bin = r.f64();
        c.grid.minK = int64_t(r.le<uint64_t>());
        c.grid.bits = r.u8();
        if (!(c.grid.bin > 0) || !std::isfinite(c.grid.bin) || !(std::fabs(double(c.grid.minK)) < kGridMaxK) ||
            c.grid.bits < 1 || c.grid.bits > 32)
          throw Error(ErrorCode::Corrupt, "bad grid parameters");
        break;
      }
      default: throw Error(ErrorCode::Unsupported, "chunk uses an unknown quantizer");
    }
    return c;
  }
};

// False when the quantizer does not fit the data (the grid's spread); the caller then uses another.
template <class T>
bool encodeStreams(QuantChoice& qc, Predictor pk, const T* x, size_t frames, const Geometry& g, Streams& s,
                   GridMemo* memo = nullptr) {
  switch (qc.id) {
    case kQGrid:
      if constexpr (std::is_floating_point<T>::value) {
        if (pk == Predictor::PredNet) return false;  // the grid is coded by finite differences only
        return gridEncode(x, frames, g, qc.eb, qc.grid, pk, s, memo);
      }
      break;
    case kQLossless:
      if (pk == Predictor::PredNet) {  // no finite-difference fast path: closed loop through the network
        prednet::LosslessLoopQuantizer<T> q(qc.lossless);
        encodeWith(pk, x, frames, g, q, s);
        return true;
      }
      losslessEncode(x, frames, g, qc.lossless, pk, s);
        return true;
    case kQAbsInt:
      if constexpr (!std::is_floating_point<T>::value) {
        AbsIntQuantizer<T> q(qc.e);
        encodeWith(pk, x, frames, g, q, s);
        return true;
      }
      break;
    case kQAbsFloat:
      if constexpr (std::is_floating_point<T>::value) {
        AbsFloatQuantizer<T> q(qc.eb, qc.bin);
        encodeWith(pk, x, frames, g, q, s);
        return true;
      }
      break;
    case kQPwRel: {
      PwRelQuantizer<T> q(qc.eps, qc.bin, qc.signs);
      encodeWith(pk, x, frames, g, q, s);
        return true;
    }
  }
  throw Error(ErrorCode::Internal, "quantizer does not fit the dtype");
}

// The token section of a coded chunk (tables and rANS stream) under `method`'s context model; with `out`
// null, only its estimated size in bits.
double codeTokens(const std::vector<uint16_t>& tok, size_t frames, const Geometry& g, uint8_t method, ByteWriter* out,
                  unsigned lanes = 0) {
  std::vector<uint8_t> ctx(tok.size());
  if (method == kCodedRows) {
    computeRowContexts(tok.data(), frames, g, ctx.data());
    auto h = std::make_unique<RowHistograms>();
    h->add(tok.data(), ctx.data(), tok.size());
    if (!out) return h->costBits();
    ransEncodeRows(tok.data(), ctx.data(), tok.size(), g.rowLen, lanes ? lanes : rowLanesFor(tok.size()), *h, *out);
  } else {
    computeContexts(tok.data(), frames, g, ctx.data());
    auto h = std::make_unique<Histograms>();
    h->add(tok.data(), ctx.data(), tok.size());
    if (!out) return h->costBits();
    ransEncode(tok.data(), ctx.data(), tok.size(), *h, *out);
  }
  return 0;
}

// Bits a candidate would take: tokens under their contexts, extra bits (extraBytes of them), escapes after zstd.
double costOf(const std::vector<uint16_t>& tok, size_t extraBytes, const std::vector<uint8_t>& esc, size_t frames,
              const Geometry& g, uint8_t method) {
  double bits = codeTokens(tok, frames, g, method, nullptr) + 8.0 * double(extraBytes);
  if (!esc.empty()) bits += 8.0 * double(std::min(esc.size(), zstdCompress(esc.data(), esc.size(), 1).size()));
  return bits;
}

// Empty when the quantizer does not fit the chunk.
template <class T>
std::vector<uint8_t> writeCoded(QuantChoice qc, Predictor pk, const T* x, size_t frames, const Geometry& g,
                                uint8_t method, unsigned lanes) {
  Streams s;
  if (!encodeStreams(qc, pk, x, frames, g, s)) return {};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(kPayloadVersion);
  w.u8(method);
  w.u8(uint8_t(pk));
  if (pk == Predictor::PredNet) {  // the model's sha256 and the window options (docs/FORMAT.md)
    const PredNetUse& u = predNetUse();
    w.bytes(u.model->sha256.data(), 32);
    w.le<uint32_t>(u.opt.window);
    w.le<uint32_t>(u.opt.warmup);
    w.f64(u.opt.mseThreshold);
  }
  qc.write(w);
  w.varint(s.nesc);
  codeTokens(s.tok, frames, g, method, &w, lanes);
  std::vector<uint16_t>().swap(s.tok);
  const std::vector<uint8_t> ex = s.extras.finish();
  w.varint(ex.size());
  w.bytes(ex.data(), ex.size());
  if (s.esc.empty()) {
    w.u8(0);
    w.varint(0);
  } else {
    std::vector<uint8_t> z = zstdCompress(s.esc.data(), s.esc.size(), 3);
    if (z.size() < s.esc.size()) {
      w.u8(1);
      w.varint(z.size());
      w.bytes(z.data(), z.size());
    } else {
      w.u8(0);
      w.varint(s.esc.size());
      w.bytes(s.esc.data(), s.esc.size());
    }
  }
  if (qc.id == kQGrid) {  // escape positions: the gap before each (docs/FORMAT.md)
    std::vector<uint8_t> at;
    ByteWriter aw(at);
    for (size_t e = 0; e < s.escAt.size(); e++) aw.varint(e ? s.escAt[e] - s.escAt[e - 1] - 1 : s.escAt[e]);
    w.varint(at.size());
    w.bytes(at.data(), at.size());
  }
  return out;
}

std::vector<uint8_t> storedPayload(const void* data, size_t bytes) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(kPayloadVersion);
  w.u8(kStored);
  w.bytes(static_cast<const uint8_t*>(data), bytes);
  return out;
}

std::vector<uint8_t> zstdRawPayload(const void* data, size_t bytes, int level, bool longWindow) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(kPayloadVersion);
  w.u8(kZstdRaw);
  std::vector<uint8_t> z = zstdCompress(static_cast<const uint8_t*>(data), bytes, level, longWindow);
  w.bytes(z.data(), z.size());
  return out;
}

template <class T>
double maxFiniteAbs(const T* x, size_t n) {  // 0 when there is no finite value
  static_assert(std::is_floating_point<T>::value, "floats only");
  double mn = 0, mx = 0;
  if (!valueRange(x, sizeof(T) == 4 ? DType::F32 : DType::F64, n, &mn, &mx)) return 0;
  return std::max(std::fabs(mn), std::fabs(mx));
}

template <class T>
std::vector<QuantChoice> quantizerCandidates(const EncodeParams& prm, const T* x, size_t n) {
  std::vector<QuantChoice> c;
  if (prm.mode == Mode::Abs) {
    if constexpr (std::is_floating_point<T>::value) {
      if (prm.ebAbs > 0) {
        QuantChoice q;
        q.id = kQAbsFloat;
        q.eb = prm.ebAbs;
        q.bin = AbsFloatQuantizer<T>::binFor(prm.ebAbs);
        // The grid codes within about 1% of the closed loop and runs 2-3× faster both ways: the only
        // candidate below level 2 (the closed loop then serves when the grid does not fit the chunk).
        if (prm.level >= 2) c.push_back(q);
        q.id = kQGrid;
        q.grid.bin = gridBin<T>(q.eb, maxFiniteAbs(x, n));
        c.push_back(q);
      }
    } else {
      // integer errors are whole numbers: a bound below 1 is lossless
      const double e = std::floor(std::min(prm.ebAbs, 1099511627776.0));
      if (e >= 1) {
        QuantChoice q;
        q.id = kQAbsInt;
        q.e = int64_t(e);
        c.push_back(q);
      }
    }
  } else if (prm.mode == Mode::PwRel) {
    QuantChoice q;
    q.id = kQPwRel;
    q.eps = prm.epsPw;
    q.bin = PwRelQuantizer<T>::binFor(prm.epsPw);
    q.signs = signModeOf(x, n);
    c.push_back(q);
    // When no value comes near zero, the absolute bound eps·min|x| implies the point-wise one for every
    // element, and linear bins are often cheaper than logarithmic ones (e.g. temperatures in kelvin).
    double minAbs = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n && minAbs > 0; i++) {
      const double a = std::fabs(double(x[i]));
      if (a < minAbs) minAbs = a;  // NaN compares false: NaN/Inf become escapes of the abs quantizer
    }
    const double eb = prm.epsPw * minAbs * (1.0 - 0x1p-40);
    if (std::isfinite(eb) && eb > 0) {
      QuantChoice a;
      if constexpr (std::is_floating_point<T>::value) {
        a.id = kQAbsFloat;
        a.eb = eb;
        a.bin = AbsFloatQuantizer<T>::binFor(eb);
        if (prm.level >= 2) c.push_back(a);
        a.id = kQGrid;
        a.grid.bin = gridBin<T>(a.eb, maxFiniteAbs(x, n));
        c.push_back(a);
      } else if (eb >= 1) {
        a.id = kQAbsInt;
        a.e = int64_t(std::min(std::floor(eb), 1099511627776.0));
        c.push_back(a);
      }
    }
  }
  // Lossless always satisfies any bound; it is a candidate whenever the bound leaves nothing to gain
  // or (pwrel on integers, where small values must stay exact) it may simply be smaller.
  if (c.empty() || (prm.mode == Mode::PwRel && !std::is_floating_point<T>::value)) {
    QuantChoice lossless;  // its parameters take a pass over the chunk: only when it is a candidate
    lossless.id = kQLossless;
    lossless.lossless = losslessParams(x, n);
    c.push_back(lossless);
  }
  return c;
}

template <class T>
std::vector<uint8_t> encodeTyped(const T* x, const EncodeParams& prm) {
  const Shape& sh = prm.shape;
  const Geometry g = geometryOf(sh);
  const size_t frames = sh.frames, fl = g.frameLen(), n = frames * fl;
  const size_t rawBytes = n * sizeof(T);
  std::vector<QuantChoice> quants = quantizerCandidates(prm, x, n);

  std::vector<Predictor> preds;
  if (prm.predictor == Predictor::Auto) {
    preds = {Predictor::Lorenzo3D, Predictor::Prev, Predictor::Lorenzo2D, Predictor::None};
    if (frames == 1) preds = {Predictor::Lorenzo2D, Predictor::None};
    else if (prm.prednet && prm.prednet->cfg.channels == sh.channels) preds.push_back(Predictor::PredNet);
  } else {
    preds = {prm.predictor};
  }

  // Measure every (quantizer, predictor) on a sample of the chunk (all of it at level 2): a few clips of
  // consecutive frames spread over the chunk (one place in time is often unrepresentative: start-up,
  // illumination, motion that comes and goes), of a band of rows from the middle of large frames (the
  // temporal predictors still see the same rows one frame back), at most a twelfth of the chunk so that
  // measuring four predictors costs about a third of coding it. (Against a sixth: one choice of the 24
  // dataset × mode cases changed, calcium rel 1e-2, 0.2% larger; era5 rel 1e-3 compresses 12% faster.)
  const size_t sampleTarget = prm.level >= 2 ? n : std::min(size_t(1) << 18, n / 12);
  size_t clips = 1, clipFrames = frames;
  Geometry gs = g;
  std::vector<T> band;
  const T* sample = x;
  if (n > sampleTarget) {
    clips = frames >= 12 ? 4 : 1;
    clipFrames = std::max<size_t>(std::min<size_t>(frames / clips, 3), (sampleTarget / clips + fl - 1) / fl);
    clipFrames = std::min(clipFrames, frames / clips);
    if (clips * clipFrames * fl > 2 * sampleTarget && g.rows > 8)
      gs.rows = std::min(g.rows, std::max<size_t>(4, sampleTarget / (clips * clipFrames * g.rowLen)));
    const size_t y0 = (g.rows - gs.rows) / 2, bl = gs.frameLen();
    band.resize(clips * clipFrames * bl);
    for (size_t k = 0; k < clips; k++) {
      const size_t t0 = (frames - clipFrames) * (2 * k + 1) / (2 * clips);  // clip k, centred in its k-th of the chunk
      for (size_t t = 0; t < clipFrames; t++)
        std::memcpy(band.data() + (k * clipFrames + t) * bl, x + (t0 + t) * fl + y0 * g.rowLen, bl * sizeof(T));
    }
    sample = band.data();
  }
  const size_t sampleFrames = clips * clipFrames, sampleLen = sampleFrames * gs.frameLen();
  double best = std::numeric_limits<double>::infinity();
  size_t bestQ = 0;
  Predictor bestP = preds[0];
  // Method 3 decodes about twice as fast as method 1; method 1's west-of-west context codes smooth,
  // low-entropy fields a few percent smaller. Auto measures both on the winner's tokens and keeps method 3
  // unless method 1 saves at least 2% of the whole (tokens, extra bits and escapes).
  uint8_t method = prm.codedMethod ? prm.codedMethod : uint8_t(kCodedRows);
  std::vector<uint16_t> bestTok;
  if (quants.size() * preds.size() > 1 && !(prm.level == 0 && quants.size() == 1)) {
    const size_t clipLen = clipFrames * gs.frameLen();
    for (size_t qi = 0; qi < quants.size(); qi++) {
      std::vector<GridMemo> memo(clips);
      for (Predictor pk : preds) {
        // Each clip coded on its own (its first frame without the frame before it), the tokens, extra bits
        // and escapes of all of them then costed together.
        std::vector<uint16_t> tok;
        std::vector<uint8_t> esc;
        size_t extraBytes = 0;
        bool fits = true;
        for (size_t k = 0; k < clips && fits; k++) {
          Streams s;
          QuantChoice q = quants[qi];
          fits = encodeStreams(q, pk, sample + k * clipLen, clipFrames, gs, s, &memo[k]);
          if (!fits) break;
          tok.insert(tok.end(), s.tok.begin(), s.tok.end());
          extraBytes += s.extras.finish().size();
          esc.insert(esc.end(), s.esc.begin(), s.esc.end());
        }
        if (!fits) continue;
        const double c = costOf(tok, extraBytes, esc, sampleFrames, gs, method);
        if (c < best) {
          best = c;
          bestQ = qi;
          bestP = pk;
          bestTok = std::move(tok);
        }
      }
    }
  } else if (prm.level == 0 && prm.predictor == Predictor::Auto) {
    bestP = frames > 1 ? Predictor::Lorenzo3D : Predictor::Lorenzo2D;
  }

  if (!prm.codedMethod && !bestTok.empty()) {
    const double rows = codeTokens(bestTok, sampleFrames, gs, kCodedRows, nullptr);
    if (codeTokens(bestTok, sampleFrames, gs, kCoded, nullptr) < rows - 0.02 * best) method = kCoded;
  }
  std::vector<uint8_t> out = writeCoded(quants[bestQ], bestP, x, frames, g, method, prm.rowLanes);
  if (out.empty()) {  // the grid did not fit the whole chunk: the closed loop with the same bound
    QuantChoice q = quants[bestQ];
    q.id = kQAbsFloat;
    out = writeCoded(q, bestP, x, frames, g, method, prm.rowLanes);
  }

  // zstd over the raw values: wins on sparse, repetitive frames (long matches across frames), and being
  // lossless it satisfies every bound. Try it when a quick look at the sample says it may pay.
  if (prm.level >= 1) {
    // (zstd level 1 on at most 128 KiB of the sample, a probe that costs little next to the coding; level 3,
    // which the choice below is about, only compresses smaller, so this errs towards coding)
    const size_t sampleBytes = sampleLen * sizeof(T), zBytes = std::min(sampleBytes, size_t(1) << 17);
    const size_t z3 = zstdCompress(reinterpret_cast<const uint8_t*>(sample), zBytes, 1).size();
    const double codedSample = (std::isfinite(best) ? best / 8.0 : double(out.size()) * double(sampleLen) / double(n)) *
                               double(zBytes) / double(sampleBytes);
    // zstd -19 is slow (~1 MB/s on dense frames): only where zstd -3 is already far ahead, which is the
    // sparse, repetitive case where -19's long matches pay; a near tie gets the cheap level.
    if (double(z3) < codedSample) {
      const bool farAhead = double(z3) < 0.5 * codedSample || prm.level >= 2;
      std::vector<uint8_t> z = zstdRawPayload(x, rawBytes, farAhead ? 19 : 3, farAhead);
      if (z.size() < out.size()) out.swap(z);
    }
  }
  if (out.size() >= rawBytes + 2) out = storedPayload(x, rawBytes);
  return out;
}

template <class D, class T>
void decodeTokensAndValues(D& dec, ByteReader& r, const QuantChoice& qc, Predictor pk, uint64_t nesc, const Shape& sh,
                           T* out);

template <class T>
void decodeCoded(ByteReader& r, DType dt, uint8_t method, const Shape& sh, T* out) {
  const Geometry g = geometryOf(sh);
  const uint8_t pkRaw = r.u8();
  if (pkRaw > uint8_t(Predictor::Lorenzo3D) && pkRaw != uint8_t(Predictor::PredNet))
    throw Error(ErrorCode::Unsupported, "chunk uses an unknown predictor");
  const Predictor pk = Predictor(pkRaw);
  PredNetUse pn;
  if (pk == Predictor::PredNet) {
    const uint8_t* hash = r.take(32);
    pn.opt.window = r.le<uint32_t>();
    pn.opt.warmup = r.le<uint32_t>();
    pn.opt.mseThreshold = r.f64();
    if (!(pn.opt.mseThreshold >= 0)) throw Error(ErrorCode::Corrupt, "bad PredNet options");
    static const char* hex = "0123456789abcdef";
    std::string want;
    for (int i = 0; i < 32; i++) want += {hex[hash[i] >> 4], hex[hash[i] & 15]};
    const PredNetModel* m = tPredNet ? tPredNet->model : nullptr;
    if (!m) throw Error(ErrorCode::Model, "chunk was compressed with the PredNet model sha256 " + want + "; no model given");
    if (std::memcmp(m->sha256.data(), hash, 32) != 0)
      throw Error(ErrorCode::Model, "chunk was compressed with the PredNet model sha256 " + want + ", not the model given");
    pn.model = m;
  }
  const PredNetScope pnScope(pk == Predictor::PredNet ? &pn : tPredNet);
  const QuantChoice qc = QuantChoice::read(r, dt);
  const uint64_t nesc = r.varint();
  if (nesc > sh.elements()) throw Error(ErrorCode::Corrupt, "escape count exceeds the chunk");
  if (method == kCodedRows) {
    RowRansDecoder dec(r);
    decodeTokensAndValues(dec, r, qc, pk, nesc, sh, out);
  } else {
    RansDecoder dec(r);
    decodeTokensAndValues(dec, r, qc, pk, nesc, sh, out);
  }
}

// The rest of a coded payload after its token tables and stream (docs/FORMAT.md), decoded with dec.
template <class D, class T>
void decodeTokensAndValues(D& dec, ByteReader& r, const QuantChoice& qc, Predictor pk, uint64_t nesc, const Shape& sh,
                           T* out) {
  const Geometry g = geometryOf(sh);
  const uint64_t exLen = r.varint();
  const uint8_t* ex = r.take(size_t(exLen));
  BitReader extras(ex, size_t(exLen));
  const uint8_t escMethod = r.u8();
  const uint64_t escLen = r.varint();
  const uint8_t* escBytes = r.take(size_t(escLen));
  std::vector<uint8_t> escBuf;
  const size_t escRaw = size_t(nesc) * sizeof(T);
  if (escMethod == 1) {
    escBuf.resize(escRaw);
    zstdDecompress(escBytes, size_t(escLen), escBuf.data(), escRaw);
    escBytes = escBuf.data();
  } else if (escMethod != 0 || escLen != escRaw) {
    throw Error(ErrorCode::Corrupt, "bad escape stream");
  }
  ByteReader esc(escBytes, escRaw);
  switch (qc.id) {
    case kQLossless:
      if (pk == Predictor::PredNet) {
        prednet::LosslessLoopQuantizer<T> q(qc.lossless);
        decodeWith(pk, dec, extras, esc, sh.frames, g, q, out);
      } else {
        losslessDecode(dec, extras, sh.frames, g, qc.lossless, pk, out);
      }
      break;
    case kQAbsInt:
      if constexpr (!std::is_floating_point<T>::value) {
        AbsIntQuantizer<T> q(qc.e);
        decodeWith(pk, dec, extras, esc, sh.frames, g, q, out);
      }
      break;
    case kQAbsFloat:
      if constexpr (std::is_floating_point<T>::value) {
        AbsFloatQuantizer<T> q(0, qc.bin);
        decodeWith(pk, dec, extras, esc, sh.frames, g, q, out);
      }
      break;
    case kQPwRel: {
      PwRelQuantizer<T> q(0, qc.bin, qc.signs);
      decodeWith(pk, dec, extras, esc, sh.frames, g, q, out);
      break;
    }
    case kQGrid:
      if constexpr (std::is_floating_point<T>::value) {
        if (pk == Predictor::PredNet) throw Error(ErrorCode::Corrupt, "grid quantizer with the PredNet predictor");
        const uint64_t atLen = r.varint();
        ByteReader at(r.take(size_t(atLen)), size_t(atLen));
        gridDecode(dec, extras, esc, at, nesc, sh.frames, g, qc.grid, pk, out);
        if (at.left() != 0) throw Error(ErrorCode::Corrupt, "escape positions longer than their escapes");
      }
      break;
  }
  dec.finish();
  if (esc.left() != 0) throw Error(ErrorCode::Corrupt, "escape stream longer than its escapes");
  if (r.left() != 0) throw Error(ErrorCode::Corrupt, "trailing bytes after the chunk payload");
}

void checkShape(const Shape& s) {
  if (!s.frames || !s.height || !s.width || !s.channels) throw Error(ErrorCode::InvalidArgument, "empty shape");
  // Four u32 factors can wrap a u64 (Shape::elements) into a small number, and the row loops would then
  // run far past a buffer sized from it: multiply step by step and refuse on overflow.
  uint64_t e = s.frames;
  for (uint64_t d : {uint64_t(s.height), uint64_t(s.width), uint64_t(s.channels)})
    if (__builtin_mul_overflow(e, d, &e)) throw Error(ErrorCode::TooLarge, "chunk too large");
  if (e > (uint64_t(1) << 40)) throw Error(ErrorCode::TooLarge, "chunk too large");
}

void checkChunkBytes(const Shape& s, DType dt) {
  if (s.elements() * dtypeSize(dt) > kMaxChunkBytes)  // elements() <= 2^40 after checkShape: no wrap
    throw Error(ErrorCode::TooLarge, "chunk holds more than the 1 GiB of values a chunk may hold");
}

// TEZIP_CODER=1, 3, 3/8, 3/16 or 3/32 forces the method (and lanes) of coded chunks where the caller left
// them to the encoder: for the golden fixtures and tests, which must cover each whatever the data favours.
std::pair<uint8_t, uint8_t> coderFromEnv() {  // read at every chunk: a test may set it between calls
  const char* e = std::getenv("TEZIP_CODER");
  const std::string s = e ? e : "";
  if (s == "1") return {1, 0};
  if (s == "3") return {3, 0};
  if (s == "3/8" || s == "3/16" || s == "3/32") return {3, uint8_t(std::atoi(s.c_str() + 2))};
  return {0, 0};
}

}  // namespace

std::vector<uint8_t> encodeChunk(const void* data, const EncodeParams& params) {
  EncodeParams prm = params;
  if (!prm.codedMethod && !prm.rowLanes) std::tie(prm.codedMethod, prm.rowLanes) = coderFromEnv();
  checkShape(prm.shape);
  checkChunkBytes(prm.shape, prm.dtype);
  if (prm.mode == Mode::Abs && !(prm.ebAbs >= 0 && std::isfinite(prm.ebAbs)))
    throw Error(ErrorCode::InvalidArgument, "absolute bound must be a finite number >= 0");
  if (prm.mode == Mode::PwRel && !(prm.epsPw > 0 && prm.epsPw < 1))
    throw Error(ErrorCode::InvalidArgument, "point-wise relative bound must be in (0, 1)");
  if (prm.codedMethod != 0 && prm.codedMethod != kCoded && prm.codedMethod != kCodedRows)
    throw Error(ErrorCode::InvalidArgument, "coded method must be 0 (auto), 1 or 3");
  if (prm.rowLanes != 0 && !validRowLanes(prm.rowLanes))
    throw Error(ErrorCode::InvalidArgument, "row lanes must be 0 (auto), 8, 16 or 32");
  PredNetUse pn{prm.prednet.get(), prm.prednetOptions};
  if (prm.predictor == Predictor::PredNet && !pn.model)
    throw Error(ErrorCode::InvalidArgument, "predictor prednet needs a model");
  if (!(pn.opt.mseThreshold >= 0 && pn.opt.mseThreshold <= 1e300))
    throw Error(ErrorCode::InvalidArgument, "PredNet MSE threshold must be a finite number >= 0");
  const PredNetScope pnScope(&pn);
  switch (prm.dtype) {
    case DType::U8: return encodeTyped(static_cast<const uint8_t*>(data), prm);
    case DType::U16: return encodeTyped(static_cast<const uint16_t*>(data), prm);
    case DType::I16: return encodeTyped(static_cast<const int16_t*>(data), prm);
    case DType::I32: return encodeTyped(static_cast<const int32_t*>(data), prm);
    case DType::F32: return encodeTyped(static_cast<const float*>(data), prm);
    case DType::F64: return encodeTyped(static_cast<const double*>(data), prm);
  }
  throw Error(ErrorCode::InvalidArgument, "unknown dtype");
}

void decodeChunk(const uint8_t* bytes, size_t size, DType dt, const Shape& sh, void* out) {
  decodeChunk(bytes, size, dt, sh, out, nullptr);
}

void decodeChunk(const uint8_t* bytes, size_t size, DType dt, const Shape& sh, void* out,
                 const PredNetModel* prednet) {
  checkShape(sh);
  checkChunkBytes(sh, dt);
  PredNetUse pn{prednet, {}};
  const PredNetScope pnScope(&pn);
  const size_t rawBytes = size_t(sh.elements()) * dtypeSize(dt);
  ByteReader r(bytes, size);
  const uint8_t ver = r.u8();
  if (ver != kPayloadVersion) throw Error(ErrorCode::Unsupported, "chunk payload version " + std::to_string(ver));
  const uint8_t method = r.u8();
  switch (method) {
    case kStored:
      if (r.left() != rawBytes) throw Error(ErrorCode::Corrupt, "stored chunk has the wrong size");
      std::memcpy(out, r.pos(), rawBytes);
      return;
    case kZstdRaw:
      zstdDecompress(r.pos(), r.left(), static_cast<uint8_t*>(out), rawBytes);
      return;
    case kCoded:
    case kCodedRows:
      switch (dt) {
        case DType::U8: return decodeCoded(r, dt, method, sh, static_cast<uint8_t*>(out));
        case DType::U16: return decodeCoded(r, dt, method, sh, static_cast<uint16_t*>(out));
        case DType::I16: return decodeCoded(r, dt, method, sh, static_cast<int16_t*>(out));
        case DType::I32: return decodeCoded(r, dt, method, sh, static_cast<int32_t*>(out));
        case DType::F32: return decodeCoded(r, dt, method, sh, static_cast<float*>(out));
        case DType::F64: return decodeCoded(r, dt, method, sh, static_cast<double*>(out));
      }
      throw Error(ErrorCode::InvalidArgument, "unknown dtype");
    default:
      throw Error(ErrorCode::Unsupported, "chunk uses an unknown method " + std::to_string(method));
  }
}

ChunkInfo inspectChunk(const uint8_t* bytes, size_t size) {
  ByteReader r(bytes, size);
  const uint8_t ver = r.u8();
  if (ver != kPayloadVersion) throw Error(ErrorCode::Unsupported, "chunk payload version " + std::to_string(ver));
  ChunkInfo info{Predictor::None, r.u8(), 0};
  if (info.method > kCodedRows) throw Error(ErrorCode::Unsupported, "chunk uses an unknown method");
  if (info.method == kCoded || info.method == kCodedRows) {
    info.predictor = Predictor(r.u8());
    if (info.predictor == Predictor::PredNet) r.take(48);  // model sha256, window, warm-up, MSE threshold
    const uint8_t q = r.u8();
    switch (q) {
      case kQLossless: r.take(17); break;
      case kQAbsInt: case kQAbsFloat: r.take(8); break;
      case kQPwRel: r.take(9); break;
      case kQGrid: r.take(17); break;
      default: throw Error(ErrorCode::Unsupported, "chunk uses an unknown quantizer");
    }
    info.escapes = r.varint();
  }
  return info;
}

}  // namespace tezip
