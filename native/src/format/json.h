// A strict, bounded JSON reader (RFC 8259) for the small documents tezip reads from untrusted places: a raw
// array's sidecar (NAME.json) and a .tez header's metadata. It checks the whole text (UTF-8 included) and
// keeps what it parsed as a tree; nesting deeper than kMaxDepth is refused so that hostile input cannot
// exhaust the stack.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tezip::json {

constexpr int kMaxDepth = 64;

struct Value {
  enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  bool integer = false;      // a number written without fraction or exponent
  std::string text;          // String: the decoded UTF-8; Number: the literal as written
  std::vector<Value> items;  // Array
  std::vector<std::pair<std::string, Value>> members;  // Object, in document order (duplicates kept)

  // The last member named `key` (JSON.parse keeps the last of duplicates), or nullptr.
  const Value* find(const std::string& key) const;
};

// Parses `text`; false (with a reason in *why) for anything that is not exactly one JSON value.
bool parse(const char* text, size_t size, Value* out, std::string* why);

// `s` as a JSON string literal, quotes included, escaped as JavaScript's JSON.stringify does (", \, control
// characters; other characters, non-ASCII included, as they are). `s` must be valid UTF-8.
std::string quote(const std::string& s);

}  // namespace tezip::json
