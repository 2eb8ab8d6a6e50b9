// Replays fuzz inputs without libFuzzer (any compiler): each argument is a file or a folder of files,
// each file is passed once to the target's LLVMFuzzerTestOneInput. Built with -DTEZIP_TESTS=ON as
// regress_<target> and run by ctest on native/fuzz/regressions/<target>/ (minimised findings that were
// fixed), so they keep running under `npm run test:native` and `npm run test:sanitize`.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

static int runFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", p.string().c_str());
    return 1;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}

int main(int argc, char** argv) {
  int errors = 0, inputs = 0;
  for (int i = 1; i < argc; i++) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) errors += runFile(e.path()), inputs++;
    } else {
      errors += runFile(p), inputs++;
    }
  }
  std::printf("%d inputs replayed, %d unreadable\n", inputs, errors);
  return errors ? 1 : 0;
}
