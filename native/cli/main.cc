// tezip-cli: the native fast path of the `tezip` command (bin/tezip runs it first).
//
// It handles the two commands that move bulk data, in their plain forms:
//   compress NAME.raw (+ NAME.json sidecar) [-o OUT.tez] [--abs E] [--rel E] [--pwrel E] [--predictor P]
//            [--level L] [--threads N] [--chunk-frames N] [-q]
//   decompress IN.tez -o OUT.raw [--format raw] [--threads N] [-q]
// and writes exactly the bytes Node's CLI (dist/cli/main.js) writes for them: the same chunk plan, header,
// metadata and sidecar (test/native-cli.test.ts compares both). It starts in about a millisecond where Node
// needs about 60, which is most of the time for files of a few MB.
//
// Anything else — other inputs or outputs, --json/--verify, PredNet, stdin/stdout, and every error, bad input
// included — it declines with exit code 100 before writing anything, and bin/tezip then runs Node's CLI,
// which does it all and reports errors in one place with one set of messages.
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "format/json.h"
#include "tezip/codec.h"
#include "tezip/container.h"

namespace {

constexpr int kDecline = 100;
constexpr uint64_t kDefaultChunkBytes = 8ull << 20;  // src/codec/options.ts DEFAULT_CHUNK_BYTES
constexpr uint64_t kMaxChunkBytes = 1ull << 30;      // MAX_CHUNK_BYTES
constexpr uint64_t kDefaultMaxBytes = 16ull << 30;   // DEFAULT_MAX_BYTES
constexpr uint64_t kMaxSafe = (uint64_t(1) << 53) - 1;
constexpr uint32_t kMaxHeaderBytes = 64u << 20;     // src/container/file.ts MAX_HEADER_BYTES

// Thrown for anything this fast path leaves to Node's CLI.
struct Decline {
  std::string why;
};
[[noreturn]] void decline(const std::string& why) { throw Decline{why}; }

// ---------- numbers as JavaScript writes them (for the summary line) ----------

// Number.prototype.toString: the shortest digits that read back to v, in JavaScript's notation.
std::string jsNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  if (v == 0) return "0";
  char buf[40];
  int prec = 1;
  for (; prec <= 17; prec++) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  const bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  const size_t e = s.find('e');
  const int exp = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; i++)
    if (s[i] != '.') digits += s[i];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int k = int(digits.size()), n = exp + 1;
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(size_t(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(size_t(-n), '0') + digits;
  } else {
    out = digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e" + (n - 1 >= 0 ? "+" : "-") +
          std::to_string(std::abs(n - 1));
  }
  return neg ? "-" + out : out;
}

// v.toExponential(p - 1) as ECMAScript writes it: p significant digits, a tie rounded to the larger magnitude
// (printf rounds an exact tie, such as 1.125 to two decimals, to even). The digit after the kept ones decides
// (>= 5: up), read from printf's 120-digit expansion.
std::string jsExponential(double v, int p) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.120e", std::fabs(v));
  const std::string s = buf;
  const size_t e = s.find('e');
  int exp = std::atoi(s.c_str() + e + 1);
  const std::string all = s.substr(0, 1) + s.substr(2, e - 2);
  std::string d = all.substr(0, size_t(p));
  if (all[size_t(p)] >= '5') {
    int i = p - 1;
    while (i >= 0 && d[size_t(i)] == '9') d[size_t(i--)] = '0';
    if (i < 0) {
      d = "1" + d.substr(0, size_t(p - 1));
      exp++;
    } else {
      d[size_t(i)]++;
    }
  }
  return (v < 0 ? "-" : "") + d.substr(0, 1) + (p > 1 ? "." + d.substr(1) : "") + "e" + (exp >= 0 ? "+" : "-") +
         std::to_string(std::abs(exp));
}

// src/cli/compress.ts fmt(v, 3).
std::string fmt3(double v) {
  if (v == 0) return "0";
  if (!std::isfinite(v)) return jsNumber(v);
  const std::string e = jsExponential(v, 3);
  if (std::fabs(v) >= 1e-3 && std::fabs(v) < 1e6) return jsNumber(std::strtod(e.c_str(), nullptr));  // +v.toPrecision(3)
  return e;
}

// ---------- arguments (the subset of src/cli/args.ts this path takes) ----------

struct Args {
  std::vector<std::string> positionals;
  std::vector<std::pair<std::string, std::string>> options;  // name → value ("" for flags)
  const std::string* get(const char* name) const {
    for (const auto& o : options)
      if (o.first == name) return &o.second;  // each option at most once (parseArgs)
    return nullptr;
  }
};

Args parseArgs(int argc, char** argv, const std::vector<std::string>& valued, const std::vector<std::string>& flags) {
  Args a;
  for (int i = 2; i < argc; i++) {
    std::string s = argv[i];
    if (s == "-" || s.empty() || s[0] != '-') {
      a.positionals.push_back(s);
      continue;
    }
    std::string name, value;
    bool hasValue = false;
    if (s.rfind("--", 0) == 0) {
      const size_t eq = s.find('=');
      name = s.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) value = s.substr(eq + 1), hasValue = true;
    } else if (s == "-o") {
      name = "output";
    } else if (s == "-q") {
      name = "quiet";
    } else {
      decline("option " + s);
    }
    for (const auto& o : a.options)
      if (o.first == name) decline("option given twice");  // a usage error in args.ts
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
      if (hasValue) decline("flag with a value");
      a.options.emplace_back(name, "");
    } else if (std::find(valued.begin(), valued.end(), name) != valued.end()) {
      if (!hasValue) {
        if (i + 1 >= argc) decline("missing value");
        value = argv[++i];
      }
      a.options.emplace_back(name, value);
    } else {
      decline("option " + s);
    }
  }
  return a;
}

// A plain decimal number (what Number() reads the same way strtod does); anything fancier goes to Node.
double decimal(const std::string& s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  size_t d0 = i;
  while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
  size_t digits = i - d0;
  if (i < n && s[i] == '.') {
    i++;
    size_t f0 = i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
    digits += i - f0;
  }
  if (digits == 0) decline("number");
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t e0 = i;
    while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) i++;
    if (i == e0) decline("number");
  }
  if (i != n) decline("number");
  return std::strtod(s.c_str(), nullptr);
}

uint64_t positiveInt(const std::string& s, uint64_t max) {
  const double v = decimal(s);
  if (!(v >= 1) || v > double(max) || v != std::floor(v)) decline("integer");
  return uint64_t(v);
}

unsigned threadsOption(const Args& a) {
  if (const std::string* t = a.get("threads")) return unsigned(positiveInt(*t, 1024));
  const unsigned n = std::thread::hardware_concurrency();  // os.availableParallelism()
  return n ? n : 1;
}

// ---------- files ----------

struct Mapped {
  const uint8_t* data = nullptr;
  size_t size = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  Mapped() = default;
  Mapped(const Mapped&) = delete;
  Mapped& operator=(const Mapped&) = delete;
  ~Mapped() {
    if (data && size) munmap(const_cast<uint8_t*>(data), size);
  }
};

// Maps a regular file read-only; declines for anything else.
void mapFile(const std::string& path, Mapped* m) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) decline("cannot open " + path);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    decline("not a regular file");
  }
  m->dev = st.st_dev;
  m->ino = st.st_ino;
  m->size = size_t(st.st_size);
  if (m->size) {
    void* p = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      close(fd);
      decline("mmap");
    }
    madvise(p, m->size, MADV_SEQUENTIAL);
    m->data = static_cast<const uint8_t*>(p);
  }
  close(fd);
}

std::string readSmallFile(const std::string& path) {
  Mapped m;
  mapFile(path, &m);
  if (m.size > (64u << 20)) decline("sidecar too large");
  return std::string(reinterpret_cast<const char*>(m.data), m.size);
}

bool sameFile(const std::string& path, const Mapped& m) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && st.st_dev == m.dev && st.st_ino == m.ino;
}

std::string baseName(const std::string& p) {
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}
std::string dirName(const std::string& p) {
  const size_t s = p.find_last_of('/');
  return s == std::string::npos ? "." : s == 0 ? "/" : p.substr(0, s);
}
std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
// path.extname: from the last '.' of the base name, unless the name starts with it.
std::string extName(const std::string& p) {
  const std::string b = baseName(p);
  const size_t d = b.find_last_of('.');
  return d == std::string::npos || d == 0 ? "" : b.substr(d);
}

// src/io/raw.ts rawPaths.
void rawPaths(const std::string& in, std::string* raw, std::string* json) {
  const std::string ext = extName(in);
  if (lower(ext) == ".json") {
    *raw = in.substr(0, in.size() - ext.size()) + ".raw";
    *json = in;
  } else if (ext.empty()) {
    *raw = in + ".raw";
    *json = in + ".json";
  } else {
    *raw = in;
    *json = in.substr(0, in.size() - ext.size()) + ".json";
  }
}

// A file written under a temporary name next to its destination and renamed over it when complete, so that
// nothing half-written is ever left under the real name.
class OutFile {
 public:
  explicit OutFile(const std::string& path) : path_(path) {
    // Node's CLI writes a decompressed .raw and its sidecar in place, through a symlink and into the file
    // itself, and fails on a folder: anything but a plain file (or nothing) is left to it, before a byte is
    // written, so that a failing second rename cannot leave the first file behind.
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) decline("output is not a plain file");
    tmp_ = dirName(path) + "/." + baseName(path) + "." + std::to_string(getpid()) + ".tmp";
    fd_ = open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) decline("cannot write " + path);
  }
  ~OutFile() {
    if (fd_ >= 0) {
      close(fd_);
      unlink(tmp_.c_str());
    }
  }
  void write(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    while (n) {
      const ssize_t w = ::write(fd_, b, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) decline("write failed");
      b += w;
      n -= size_t(w);
    }
  }
  void patch(off_t at, const void* p, size_t n) {
    if (pwrite(fd_, p, n, at) != ssize_t(n)) decline("write failed");
  }
  void commit() {
    const int fd = fd_;
    fd_ = -1;
    // Renaming over an existing file makes ext4 flush the new one first (auto_da_alloc: milliseconds that
    // were a third of a small decompress); removing the old one first leaves, at worst, no file, never a
    // half-written one.
    if (close(fd) != 0 || (unlink(path_.c_str()) != 0 && errno != ENOENT) || rename(tmp_.c_str(), path_.c_str()) != 0) {
      unlink(tmp_.c_str());
      decline("cannot write " + path_);
    }
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

// Where a chunk is decoded before it is written: anonymous memory in transparent huge pages where the kernel
// offers them (a few faults instead of one per 4 KiB page, and no zero-filling pass of our own), reused from
// one group of chunks to the next.
class ChunkBuffer {
 public:
  ChunkBuffer() = default;
  ChunkBuffer(ChunkBuffer&& o) noexcept : p_(o.p_), cap_(o.cap_) { o.p_ = nullptr, o.cap_ = 0; }
  ChunkBuffer(const ChunkBuffer&) = delete;
  ~ChunkBuffer() {
    if (p_) munmap(p_, cap_);
  }
  uint8_t* get(size_t n) {
    if (n > cap_) {
      if (p_) munmap(p_, cap_), p_ = nullptr, cap_ = 0;
      const size_t huge = size_t(2) << 20, cap = (n + huge - 1) / huge * huge;
      void* p = mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
      madvise(p, cap, MADV_HUGEPAGE);
#endif
      p_ = static_cast<uint8_t*>(p);
      cap_ = cap;
    }
    return p_;
  }
  const uint8_t* data() const { return p_; }

 private:
  uint8_t* p_ = nullptr;
  size_t cap_ = 0;
};

// A file name Node would store as it is: valid UTF-8 (quoted, it reads back as JSON); anything else goes to Node.
bool storableName(const std::string& name) {
  tezip::json::Value probe;
  const std::string q = tezip::json::quote(name);
  return tezip::json::parse(q.data(), q.size(), &probe, nullptr);
}

// ---------- dtypes ----------

const char* const kDTypeNames[] = {"uint8", "uint16", "int16", "int32", "float32", "float64"};

bool dtypeFromName(const std::string& s, tezip::DType* t) {
  for (int i = 0; i < 6; i++)
    if (s == kDTypeNames[i]) return *t = tezip::DType(i + 1), true;
  return false;
}

// Runs task(i) for i in [0, n), `threads` at a time; rethrows the first failure.
template <class Fn>
void parallel(size_t n, unsigned threads, Fn task) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::atomic_flag lock = ATOMIC_FLAG_INIT;
  auto lane = [&] {
    for (size_t i; !failed && (i = next++) < n;) {
      try {
        task(i);
      } catch (...) {
        if (!lock.test_and_set()) first = std::current_exception();
        failed = true;
      }
    }
  };
  const unsigned k = unsigned(std::min<size_t>(threads, n));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < k; t++) pool.emplace_back(lane);
  lane();
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

// JavaScript's Math.min / Math.max on finite numbers: −0 is below +0.
double jsMin(double a, double b) { return a < b ? a : b < a ? b : std::signbit(a) ? a : b; }
double jsMax(double a, double b) { return a > b ? a : b > a ? b : std::signbit(a) ? b : a; }

// ---------- compress ----------

int compressCmd(int argc, char** argv) {
  const Args a = parseArgs(argc, argv, {"output", "abs", "rel", "pwrel", "predictor", "level", "threads", "chunk-frames"},
                           {"quiet"});
  if (a.positionals.size() != 1) decline("inputs");
  const std::string input = a.positionals[0];
  const std::string e = lower(extName(input));
  if (!(e == ".raw" || e == ".json" || e.empty() || e == ".bin" || e == ".dat")) decline("input kind");
  if (input.find(".h5") != std::string::npos || input.find(".hdf5") != std::string::npos ||
      input.find(".nxs") != std::string::npos)
    decline("maybe hdf5");
  {
    struct stat st;
    if (stat(input.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) decline("folder input");
  }

  // bound (src/cli/compress.ts boundFromOptions, src/codec/options.ts)
  double abs = 0, rel = 0, pwrel = 0;
  auto bound = [&](const char* n, double* v) {
    if (const std::string* s = a.get(n)) {
      *v = decimal(*s);
      if (!std::isfinite(*v) || *v <= 0) decline("bound");
    }
  };
  bound("abs", &abs);
  bound("rel", &rel);
  bound("pwrel", &pwrel);
  if (pwrel != 0 && (pwrel >= 1 || abs != 0 || rel != 0)) decline("bound");
  const uint8_t mode = pwrel ? 4 : abs && rel ? 3 : abs ? 1 : rel ? 2 : 0;
  tezip::Predictor predictor = tezip::Predictor::Auto;
  if (const std::string* p = a.get("predictor")) {
    if (*p == "auto") predictor = tezip::Predictor::Auto;
    else if (*p == "none") predictor = tezip::Predictor::None;
    else if (*p == "prev") predictor = tezip::Predictor::Prev;
    else if (*p == "lorenzo2d") predictor = tezip::Predictor::Lorenzo2D;
    else if (*p == "lorenzo3d" || *p == "lorenzo") predictor = tezip::Predictor::Lorenzo3D;
    else decline("predictor");
  }
  int level = 1;
  if (const std::string* l = a.get("level")) {
    if (*l != "0" && *l != "1" && *l != "2") decline("level");
    level = (*l)[0] - '0';
  }
  const unsigned threads = threadsOption(a);
  uint64_t chunkFramesOpt = 0;
  if (const std::string* c = a.get("chunk-frames")) chunkFramesOpt = positiveInt(*c, 0xFFFFFFFFu);
  const bool quiet = a.get("quiet") != nullptr;

  // input: NAME.raw + NAME.json (src/io/raw-source.ts)
  std::string rawPath, jsonPath;
  rawPaths(input, &rawPath, &jsonPath);
  std::string output;
  if (const std::string* o = a.get("output")) {
    output = *o;
  } else {
    // rawPath.replace(/(\.raw)?$/i, '.tez')
    output = lower(extName(rawPath)) == ".raw" ? rawPath.substr(0, rawPath.size() - 4) + ".tez" : rawPath + ".tez";
  }
  if (output.empty() || output == "-") decline("output");
  const std::string text = readSmallFile(jsonPath);
  tezip::json::Value side;
  if (!tezip::json::parse(text.data(), text.size(), &side, nullptr) || side.kind != tezip::json::Value::Kind::Object)
    decline("sidecar");
  const tezip::json::Value* shapeV = side.find("shape");
  const tezip::json::Value* dtypeV = side.find("dtype");
  if (!shapeV || shapeV->kind != tezip::json::Value::Kind::Array || shapeV->items.size() < 3 || shapeV->items.size() > 4)
    decline("shape");
  if (!dtypeV || dtypeV->kind != tezip::json::Value::Kind::String) decline("dtype");
  tezip::DType dtype;
  if (!dtypeFromName(dtypeV->text, &dtype)) decline("dtype");
  if (const tezip::json::Value* b = side.find("byte_order"))
    if (b->kind != tezip::json::Value::Kind::String || b->text != "little") decline("byte_order");
  if (const tezip::json::Value* o = side.find("order"))
    if (o->kind != tezip::json::Value::Kind::String || o->text != "C") decline("order");
  uint64_t dims[4] = {0, 0, 0, 1};
  for (size_t i = 0; i < shapeV->items.size(); i++) {
    const tezip::json::Value& d = shapeV->items[i];
    if (d.kind != tezip::json::Value::Kind::Number || !d.integer || !(d.number >= 1) || d.number > double(kMaxSafe) ||
        (i > 0 && d.number > 0xFFFFFFFFu))
      decline("shape");
    dims[i] = uint64_t(d.number);
  }
  const bool explicitChannels = shapeV->items.size() == 4;
  const size_t esize = tezip::dtypeSize(dtype);
  const unsigned __int128 fb = (unsigned __int128)dims[1] * dims[2] * dims[3] * esize;
  if (fb > kMaxChunkBytes) decline("frame size");
  const uint64_t frameBytes = uint64_t(fb), frames = dims[0];
  Mapped in;
  mapFile(rawPath, &in);
  if ((unsigned __int128)frames * frameBytes != in.size) decline("size mismatch");
  if (sameFile(output, in) || output == rawPath) decline("output would overwrite the input");
  const std::string name = baseName(rawPath);
  if (!storableName(name)) decline("file name");

  // chunk plan (src/codec/options.ts planChunks)
  uint64_t nominal;
  if (chunkFramesOpt) {
    nominal = std::min<uint64_t>(chunkFramesOpt, frames);
    if (nominal * frameBytes > kMaxChunkBytes) decline("chunk size");
  } else {
    const uint64_t mx = std::max<uint64_t>(1, kDefaultChunkBytes / frameBytes);
    const uint64_t n = (frames + mx - 1) / mx;
    nominal = (frames + n - 1) / n;
  }
  const size_t chunks = size_t((frames + nominal - 1) / nominal);
  const uint64_t frameLen = frameBytes / esize;

  const auto t0 = std::chrono::steady_clock::now();
  // bound and range as src/io/tez-slabs.ts compressSource resolves them: rel/absrel from the whole input's
  // finite range (first-seen on ties), the header's range otherwise from the chunks' ranges (Math.min/max).
  double mn = NAN, mx = NAN, effectiveAbs = 0;
  if (mode == 2 || mode == 3) {
    double lo, hi;
    if (tezip::valueRange(in.data, dtype, frames * frameLen, &lo, &hi)) mn = lo, mx = hi;
    const double width = std::isnan(mn) ? 0 : mx - mn;
    effectiveAbs = mode == 2 ? (std::isfinite(width) ? rel * width : 0) : (std::isfinite(width) ? std::min(abs, rel * width) : abs);
  } else if (mode == 1) {
    effectiveAbs = abs;
  }
  tezip::EncodeParams p;
  p.dtype = dtype;
  p.shape = {uint32_t(nominal), uint32_t(dims[1]), uint32_t(dims[2]), uint32_t(dims[3])};
  p.mode = mode == 4 ? tezip::Mode::PwRel : (mode != 0 && effectiveAbs > 0) ? tezip::Mode::Abs : tezip::Mode::Lossless;
  p.ebAbs = p.mode == tezip::Mode::Abs ? effectiveAbs : 0;
  p.epsPw = p.mode == tezip::Mode::PwRel ? pwrel : 0;
  p.predictor = predictor;
  p.level = level;

  const bool needRange = mode == 2 || mode == 3;
  tezip::container::Header h;
  h.dtype = dtype;
  h.mode = mode;
  h.predictor = uint8_t(predictor);
  h.flags = explicitChannels ? tezip::container::kFlagExplicitChannels : 0;
  h.height = uint32_t(dims[1]);
  h.width = uint32_t(dims[2]);
  h.channels = uint32_t(dims[3]);
  h.frames = frames;
  h.abs = abs;
  h.rel = rel;
  h.pwrel = pwrel;
  h.effectiveAbs = mode == 4 ? 0 : effectiveAbs;
  h.min = mn;  // lossless, abs, pwrel: NaN until the chunks' ranges are in; the header is rewritten then
  h.max = mx;
  h.chunkFrames = uint32_t(nominal);
  h.metadata = "{\"source\":{\"format\":\"raw\",\"file\":" + tezip::json::quote(name) + "}}";
  OutFile out(output);
  const std::vector<uint8_t> header = tezip::container::writeHeader(h);
  out.write(header.data(), header.size());
  // A group of chunks at a time (one per thread), written in order: memory stays at `threads` payloads
  // however long the input.
  std::vector<tezip::container::IndexEntry> entries(chunks);
  uint64_t offset = header.size();
  std::vector<std::vector<uint8_t>> payloads(std::min<size_t>(threads, chunks));
  std::vector<double> lo(payloads.size()), hi(payloads.size());
  try {
    for (size_t g = 0; g < chunks; g += payloads.size()) {
      const size_t k = std::min(payloads.size(), chunks - g);
      parallel(k, threads, [&](size_t j) {
        const uint64_t first = (g + j) * nominal, count = std::min<uint64_t>(nominal, frames - first);
        const uint8_t* data = in.data + first * frameBytes;
        tezip::EncodeParams q = p;
        q.shape.frames = uint32_t(count);
        lo[j] = hi[j] = NAN;
        if (!needRange) {
          double l, u;
          if (tezip::valueRange(data, dtype, count * frameLen, &l, &u)) lo[j] = l, hi[j] = u;
        }
        payloads[j] = tezip::encodeChunk(data, q);
        if (payloads[j].size() > 0xFFFFFFFFu) decline("chunk too large");
      });
      for (size_t j = 0; j < k; j++) {
        const size_t i = g + j;
        const uint64_t first = i * nominal, count = std::min<uint64_t>(nominal, frames - first);
        uint8_t rec[tezip::container::kRecordBytes];
        const uint32_t len = uint32_t(payloads[j].size());
        tezip::container::writeRecord(rec, uint32_t(i), first, uint32_t(count), payloads[j].data(), len);
        out.write(rec, sizeof rec);
        out.write(payloads[j].data(), len);
        entries[i] = {offset, first, uint32_t(count), len};
        offset += sizeof rec + len;
        if (!needRange && !std::isnan(lo[j])) {
          mn = std::isnan(mn) ? lo[j] : jsMin(mn, lo[j]);
          mx = std::isnan(mx) ? hi[j] : jsMax(mx, hi[j]);
        }
      }
    }
  } catch (const tezip::Error& e) {
    decline(e.what());
  } catch (const std::bad_alloc&) {
    decline("out of memory");
  }
  const std::vector<uint8_t> index = tezip::container::writeIndex(entries);
  out.write(index.data(), index.size());
  uint8_t trailer[tezip::container::kTrailerBytes];
  tezip::container::writeTrailer(trailer, offset, frames);
  out.write(trailer, sizeof trailer);
  if (!needRange) {  // the range of the whole input, now known (the same length: only min and max change)
    h.min = mn;
    h.max = mx;
    const std::vector<uint8_t> final = tezip::container::writeHeader(h);
    out.patch(0, final.data(), final.size());
  }
  out.commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (!quiet) {
    const uint64_t outBytes = offset + index.size() + sizeof trailer;
    std::string label = mode == 0   ? "lossless"
                        : mode == 1 ? "abs " + jsNumber(abs)
                        : mode == 2 ? "rel " + jsNumber(rel)
                        : mode == 3 ? "abs " + jsNumber(abs) + " + rel " + jsNumber(rel)
                                    : "pwrel " + jsNumber(pwrel);
    std::printf("%s → %s: %llu frames %s, %zu → %llu bytes, ratio %s, %s MB/s, %s\n", rawPath.c_str(), output.c_str(),
                (unsigned long long)frames, kDTypeNames[int(dtype) - 1], in.size, (unsigned long long)outBytes,
                fmt3(double(in.size) / double(outBytes)).c_str(), fmt3(double(in.size) / 1e6 / seconds).c_str(),
                label.c_str());
  }
  return 0;
}

// ---------- decompress ----------

int decompressCmd(int argc, char** argv) {
  const Args a = parseArgs(argc, argv, {"output", "format", "threads"}, {"quiet"});
  if (a.positionals.size() != 1) decline("inputs");
  const std::string input = a.positionals[0];
  const std::string* o = a.get("output");
  if (!o || o->empty() || *o == "-") decline("output");
  if (const std::string* f = a.get("format"))
    if (*f != "raw") decline("format");
  const std::string oe = lower(extName(*o));
  if (oe != ".raw" && oe != ".json") decline("output kind");  // other names take the input's format
  if (input == "-") decline("stdin");
  const unsigned threads = threadsOption(a);
  const bool quiet = a.get("quiet") != nullptr;
  std::string rawPath, jsonPath;
  rawPaths(*o, &rawPath, &jsonPath);

  Mapped in;
  mapFile(input, &in);
  if (rawPath == input || sameFile(rawPath, in) || sameFile(jsonPath, in)) decline("output would overwrite the input");
  tezip::container::Layout L;
  std::vector<const uint8_t*> payloads;
  try {
    // src/container/file.ts refuses headers above MAX_HEADER_BYTES (TEZ_TOO_LARGE) before reading them
    if (in.size >= 14 && (uint32_t(in.data[10]) | uint32_t(in.data[11]) << 8 | uint32_t(in.data[12]) << 16 |
                          uint32_t(in.data[13]) << 24) > kMaxHeaderBytes)
      decline("header too large");
    L = tezip::container::readLayout(in.data, in.size, kDefaultMaxBytes);
    if (L.totalFrames == 0) decline("no frames");
    for (size_t i = 0; i < L.entries.size(); i++) {
      payloads.push_back(tezip::container::chunkPayload(in.data, in.size, L, i));
      if (tezip::inspectChunk(payloads[i], L.entries[i].payloadBytes).predictor == tezip::Predictor::PredNet)
        decline("PredNet chunk");  // needs the model, which Node's CLI finds
    }
  } catch (const tezip::Error& e) {
    decline(e.what());
  }
  const tezip::container::Header& h = L.header;
  const std::string base = baseName(input);
  if (!storableName(base)) decline("file name");

  const auto t0 = std::chrono::steady_clock::now();
  OutFile raw(rawPath);
  OutFile js(jsonPath);
  // Decoded a group of chunks at a time (one per thread), written in order: memory stays at `threads` chunks.
  const size_t n = L.entries.size();
  std::vector<ChunkBuffer> bufs(std::min<size_t>(threads, n));
  try {
    for (size_t g = 0; g < n; g += bufs.size()) {
      const size_t k = std::min(bufs.size(), n - g);
      parallel(k, threads, [&](size_t j) {
        const auto& e = L.entries[g + j];
        const tezip::Shape s{e.frameCount, h.height, h.width, h.channels};
        tezip::decodeChunk(payloads[g + j], e.payloadBytes, h.dtype, s, bufs[j].get(size_t(e.frameCount * L.frameBytes)));
      });
      for (size_t j = 0; j < k; j++) raw.write(bufs[j].data(), size_t(L.entries[g + j].frameCount * L.frameBytes));
    }
  } catch (const tezip::Error& e) {
    decline(e.what());
  } catch (const std::bad_alloc&) {
    decline("out of memory");
  }
  // the sidecar, as src/io/write-output.ts writes it: JSON.stringify(meta, null, 1) + '\n'
  const uint64_t bytes = L.totalFrames * L.frameBytes;
  std::string shape = "[\n  " + std::to_string(L.totalFrames) + ",\n  " + std::to_string(h.height) + ",\n  " +
                      std::to_string(h.width);
  std::string shapeInline = "[" + std::to_string(L.totalFrames) + "," + std::to_string(h.height) + "," + std::to_string(h.width);
  if ((h.flags & tezip::container::kFlagExplicitChannels) || h.channels != 1) {
    shape += ",\n  " + std::to_string(h.channels);
    shapeInline += "," + std::to_string(h.channels);
  }
  shape += "\n ]";
  shapeInline += "]";
  const char* dt = kDTypeNames[int(h.dtype) - 1];
  const std::string sidecar = "{\n \"shape\": " + shape + ",\n \"dtype\": \"" + dt +
                              "\",\n \"byte_order\": \"little\",\n \"order\": \"C\",\n \"bytes\": " + std::to_string(bytes) +
                              ",\n \"source\": " + tezip::json::quote("decompressed from " + base + " by tezip") + "\n}\n";
  js.write(sidecar.data(), sidecar.size());
  raw.commit();
  js.commit();
  (void)t0;
  if (!quiet)
    std::printf("%s → %s (+ %s): frames 0:%llu of %llu, shape %s, %s, %llu bytes\n", input.c_str(), rawPath.c_str(),
                baseName(jsonPath).c_str(), (unsigned long long)L.totalFrames, (unsigned long long)L.totalFrames,
                shapeInline.c_str(), dt, (unsigned long long)bytes);
  return 0;
}

// TEZIP_DEBUG set to something other than "" (a JavaScript truthy string, as src/cli/main.ts reads it).
bool debug() {
  const char* d = std::getenv("TEZIP_DEBUG");
  return d && *d;
}

}  // namespace

int main(int argc, char** argv) {
  // The codec allocates and frees chunk-sized buffers several times per chunk: keep them in the heap for
  // reuse instead of mapping fresh (page-faulting, zeroed) memory each time.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  try {
    if (argc < 2) decline("no command");
    const std::string cmd = argv[1];
    // With a progress bar to draw (stderr a terminal, no -q), Node's CLI runs: it draws one.
    if (isatty(2)) {
      bool q = false;
      for (int i = 2; i < argc; i++) q = q || std::strcmp(argv[i], "-q") == 0 || std::strcmp(argv[i], "--quiet") == 0;
      if (!q) decline("progress bar");
    }
    if (cmd == "compress") return compressCmd(argc, argv);
    if (cmd == "decompress") return decompressCmd(argc, argv);
    decline("command");
  } catch (const Decline& d) {
    if (debug()) std::fprintf(stderr, "tezip-cli: declined (%s); running Node's CLI\n", d.why.c_str());
    return kDecline;
  } catch (const std::exception& e) {
    if (debug()) std::fprintf(stderr, "tezip-cli: declined (%s); running Node's CLI\n", e.what());
    return kDecline;
  }
}
