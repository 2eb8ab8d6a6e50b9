// libFuzzer target: tezip::json::parse (the strict reader of raw sidecars and .tez header metadata) on
// arbitrary bytes. It must return, not crash, overflow the stack or read past the input (copied into a buffer
// of exactly its size); and every string it accepts must survive json::quote and a second parse unchanged.
#include <cstdlib>
#include <string>
#include <vector>

#include "format/json.h"

namespace {

void checkStrings(const tezip::json::Value& v) {
  auto roundTrip = [](const std::string& s) {
    const std::string q = tezip::json::quote(s);
    tezip::json::Value back;
    if (!tezip::json::parse(q.data(), q.size(), &back, nullptr) || back.kind != tezip::json::Value::Kind::String ||
        back.text != s)
      std::abort();
  };
  if (v.kind == tezip::json::Value::Kind::String) roundTrip(v.text);
  for (const auto& item : v.items) checkStrings(item);
  for (const auto& m : v.members) {
    roundTrip(m.first);
    checkStrings(m.second);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<char> text(data, data + size);
  tezip::json::Value v;
  std::string why;
  if (tezip::json::parse(text.data(), text.size(), &v, &why)) checkStrings(v);
  else if (why.empty()) std::abort();  // a refusal always says why
  return 0;
}
