#include "format/json.h"

#include <cstdlib>
#include <cstring>

namespace tezip::json {

const Value* Value::find(const std::string& key) const {
  const Value* hit = nullptr;
  for (const auto& m : members)
    if (m.first == key) hit = &m.second;
  return hit;
}

namespace {

class Parser {
 public:
  Parser(const char* p, size_t n) : p_(reinterpret_cast<const uint8_t*>(p)), end_(p_ + n) {}

  bool document(Value* out) {
    ws();
    if (!value(out, 0)) return false;
    ws();
    if (p_ != end_) return fail("text after the JSON value");
    return true;
  }
  std::string why;

 private:
  const uint8_t* p_;
  const uint8_t* end_;

  bool fail(const char* w) {
    if (why.empty()) why = w;
    return false;
  }
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) p_++;
  }
  bool lit(const char* s) {
    size_t n = std::strlen(s);
    if (size_t(end_ - p_) < n || std::memcmp(p_, s, n) != 0) return fail("unexpected token");
    p_ += n;
    return true;
  }

  bool value(Value* v, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    if (p_ >= end_) return fail("unexpected end");
    switch (*p_) {
      case '{': return object(v, depth);
      case '[': return array(v, depth);
      case '"': v->kind = Value::Kind::String; return string(&v->text);
      case 't': v->kind = Value::Kind::Bool; v->boolean = true; return lit("true");
      case 'f': v->kind = Value::Kind::Bool; v->boolean = false; return lit("false");
      case 'n': v->kind = Value::Kind::Null; return lit("null");
      default: return number(v);
    }
  }

  bool object(Value* v, int depth) {
    v->kind = Value::Kind::Object;
    p_++;
    ws();
    if (p_ < end_ && *p_ == '}') {
      p_++;
      return true;
    }
    for (;;) {
      ws();
      if (p_ >= end_ || *p_ != '"') return fail("expected a member name");
      std::string key;
      if (!string(&key)) return false;
      ws();
      if (p_ >= end_ || *p_ != ':') return fail("expected ':'");
      p_++;
      ws();
      v->members.emplace_back(std::move(key), Value());
      if (!value(&v->members.back().second, depth + 1)) return false;
      ws();
      if (p_ < end_ && *p_ == ',') {
        p_++;
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        p_++;
        return true;
      }
      return fail("expected ',' or '}'");
    }
  }

  bool array(Value* v, int depth) {
    v->kind = Value::Kind::Array;
    p_++;
    ws();
    if (p_ < end_ && *p_ == ']') {
      p_++;
      return true;
    }
    for (;;) {
      ws();
      v->items.emplace_back();
      if (!value(&v->items.back(), depth + 1)) return false;
      ws();
      if (p_ < end_ && *p_ == ',') {
        p_++;
        continue;
      }
      if (p_ < end_ && *p_ == ']') {
        p_++;
        return true;
      }
      return fail("expected ',' or ']'");
    }
  }

  bool number(Value* v) {
    const uint8_t* s = p_;
    auto digits = [&] {
      const uint8_t* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') p_++;
      return p_ > d;
    };
    if (p_ < end_ && *p_ == '-') p_++;
    if (p_ < end_ && *p_ == '0') p_++;
    else if (!digits()) return fail("unexpected token");
    bool integer = true;
    if (p_ < end_ && *p_ == '.') {
      p_++;
      integer = false;
      if (!digits()) return fail("bad number");
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      p_++;
      integer = false;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) p_++;
      if (!digits()) return fail("bad number");
    }
    v->kind = Value::Kind::Number;
    v->integer = integer;
    v->text.assign(reinterpret_cast<const char*>(s), size_t(p_ - s));
    v->number = std::strtod(v->text.c_str(), nullptr);  // correctly rounded, as JSON.parse
    return true;
  }

  static void put(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(char(cp));
    } else if (cp < 0x800) {
      out->push_back(char(0xC0 | (cp >> 6)));
      out->push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(char(0xE0 | (cp >> 12)));
      out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(char(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(char(0xF0 | (cp >> 18)));
      out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  bool hex4(uint32_t* cp) {
    if (end_ - p_ < 4) return fail("bad \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
      uint8_t c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return fail("bad \\u escape");
    }
    *cp = v;
    return true;
  }

  // One UTF-8 sequence starting at p_ (already known to be >= 0x80), checked as the Unicode standard says:
  // no overlong forms, no surrogates, nothing above U+10FFFF.
  bool utf8(std::string* out) {
    uint8_t c = *p_;
    int n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07, min = 0x10000;
    else return fail("invalid UTF-8");
    if (end_ - p_ < n + 1) return fail("invalid UTF-8");
    for (int i = 1; i <= n; i++) {
      if ((p_[i] & 0xC0) != 0x80) return fail("invalid UTF-8");
      cp = (cp << 6) | (p_[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail("invalid UTF-8");
    out->append(reinterpret_cast<const char*>(p_), size_t(n + 1));
    p_ += n + 1;
    return true;
  }

  bool string(std::string* out) {
    p_++;  // opening quote
    for (;;) {
      if (p_ >= end_) return fail("unterminated string");
      uint8_t c = *p_;
      if (c == '"') {
        p_++;
        return true;
      }
      if (c < 0x20) return fail("control character in string");
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      if (c != '\\') {
        out->push_back(char(c));
        p_++;
        continue;
      }
      p_++;
      if (p_ >= end_) return fail("unterminated string");
      c = *p_++;
      switch (c) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            const uint8_t* save = p_;
            p_ += 2;
            uint32_t lo;
            if (!hex4(&lo)) return false;
            if (lo >= 0xDC00 && lo <= 0xDFFF) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else p_ = save;
          }
          // A lone surrogate has no UTF-8 form; keep U+FFFD as TextEncoder would after JSON.parse.
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          put(out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }
};

}  // namespace

bool parse(const char* text, size_t size, Value* out, std::string* why) {
  Parser p(text, size);
  *out = Value();
  if (p.document(out)) return true;
  if (why) *why = p.why;
  return false;
}

std::string quote(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\b': o += "\\b"; break;
      case '\f': o += "\\f"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          o += "\\u00";
          o += hex[c >> 4];
          o += hex[c & 15];
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}

}  // namespace tezip::json
