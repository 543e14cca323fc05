#include "services/critique/eth/abi_type.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace rally::critique::eth::abi {
namespace {

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, "ABI type: " + std::move(message));
}

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c);
}

std::size_t saturating_mul(std::size_t a, std::size_t b) {
  if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a)
    return std::numeric_limits<std::size_t>::max();
  return a * b;
}
std::size_t saturating_add(std::size_t a, std::size_t b) {
  return b > std::numeric_limits<std::size_t>::max() - a ? std::numeric_limits<std::size_t>::max() : a + b;
}

bool valid_int_bits(unsigned bits) {
  return bits >= 8 && bits <= 256 && bits % 8 == 0;
}

// A decimal number without sign or leading zeros, at most `max`; nullopt otherwise.
std::optional<std::size_t> parse_size(std::string_view digits, std::size_t max) {
  if (digits.empty() || digits.size() > 7 || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  std::size_t value = 0;
  for (const char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

void skip_spaces(std::string_view text, std::size_t& pos) {
  while (pos < text.size() && text[pos] == ' ') ++pos;
}

std::string_view read_identifier(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  if (pos < text.size() && is_ident_start(text[pos])) {
    while (pos < text.size() && is_ident_char(text[pos])) ++pos;
  }
  return text.substr(start, pos - start);
}

common::Result<Type> parse_elementary(std::string_view name) {
  if (name == "address") return Type::address();
  if (name == "bool") return Type::boolean();
  if (name == "string") return Type::string();
  if (name == "bytes") return Type::bytes();
  if (name == "uint") return Type::uint(256);
  if (name == "int") return Type::int_(256);
  for (const std::string_view prefix : {"uint", "int"}) {
    if (name.starts_with(prefix)) {
      const auto bits = parse_size(name.substr(prefix.size()), 256);
      if (!bits || !valid_int_bits(static_cast<unsigned>(*bits))) {
        return invalid("integer width must be a multiple of 8 from 8 to 256: " + std::string(name));
      }
      return prefix == "uint" ? Type::uint(static_cast<unsigned>(*bits))
                              : Type::int_(static_cast<unsigned>(*bits));
    }
  }
  if (name.starts_with("bytes")) {
    const auto size = parse_size(name.substr(5), 32);
    if (!size || *size == 0) return invalid("bytesN needs N from 1 to 32: " + std::string(name));
    return Type::fixed_bytes(*size);
  }
  return invalid("unknown type '" + std::string(name) + "'");
}

common::Result<Type> check_limits(Type type, int depth) {
  if (depth > kMaxNesting) return invalid("types nest deeper than " + std::to_string(kMaxNesting));
  if (!type.is_dynamic() && type.head_size() > kMaxStaticSize) {
    return invalid("static type is larger than " + std::to_string(kMaxStaticSize) + " bytes");
  }
  return type;
}

// One type starting at `pos`; `depth` is the nesting of the enclosing types.
common::Result<Type> parse_type_at(std::string_view text, std::size_t& pos, int depth) {
  if (depth > kMaxNesting) return invalid("types nest deeper than " + std::to_string(kMaxNesting));
  common::Result<Type> base = Type::boolean();
  if (pos < text.size() && text[pos] == '(') {
    ++pos;
    std::vector<Type> components;
    if (pos < text.size() && text[pos] == ')') {
      ++pos;
    } else {
      while (true) {
        auto component = parse_type_at(text, pos, depth + 1);
        if (!component) return component;
        components.push_back(std::move(component).value());
        if (pos < text.size() && text[pos] == ',') {
          ++pos;
        } else if (pos < text.size() && text[pos] == ')') {
          ++pos;
          break;
        } else {
          return invalid("expected ',' or ')' at position " + std::to_string(pos));
        }
      }
    }
    base = Type::tuple(std::move(components));
  } else {
    const std::size_t start = pos;
    while (pos < text.size() && (is_digit(text[pos]) || (text[pos] >= 'a' && text[pos] <= 'z'))) ++pos;
    if (pos == start) return invalid("expected a type at position " + std::to_string(pos));
    base = parse_elementary(text.substr(start, pos - start));
  }
  if (!base) return base;
  Type type = std::move(base).value();
  int type_depth = depth;
  while (pos < text.size() && text[pos] == '[') {
    const std::size_t close = text.find(']', pos);
    if (close == std::string_view::npos) return invalid("unclosed '[' at position " + std::to_string(pos));
    const std::string_view digits = text.substr(pos + 1, close - pos - 1);
    pos = close + 1;
    if (digits.empty()) {
      type = Type::array(std::move(type));
    } else {
      const auto length = parse_size(digits, kMaxFixedArrayLength);
      if (!length || *length == 0) {
        return invalid("fixed array length must be 1 to " + std::to_string(kMaxFixedArrayLength) + ": [" +
                       std::string(digits) + "]");
      }
      type = Type::fixed_array(std::move(type), *length);
    }
    auto checked = check_limits(std::move(type), ++type_depth);
    if (!checked) return checked;
    type = std::move(checked).value();
  }
  return check_limits(std::move(type), depth);
}

}  // namespace

Type::Type(Kind kind, unsigned bits, std::size_t size, std::vector<Type> children)
    : kind_(kind), bits_(bits), size_(size), children_(std::move(children)) {
  switch (kind_) {
    case Kind::kBytes:
    case Kind::kString:
    case Kind::kArray:
      dynamic_ = true;
      break;
    case Kind::kFixedArray:
      dynamic_ = children_[0].is_dynamic();
      if (!dynamic_) head_size_ = saturating_mul(children_[0].head_size(), size_);
      break;
    case Kind::kTuple:
      dynamic_ =
          std::any_of(children_.begin(), children_.end(), [](const Type& c) { return c.is_dynamic(); });
      if (!dynamic_) {
        head_size_ = 0;
        for (const Type& c : children_) head_size_ = saturating_add(head_size_, c.head_size());
      }
      break;
    default:
      break;
  }
}

common::Result<Type> Type::parse(std::string_view text) {
  std::size_t pos = 0;
  auto type = parse_type_at(text, pos, 1);
  if (!type) return type;
  if (pos != text.size()) return invalid("unexpected '" + std::string(text.substr(pos)) + "' after the type");
  return type;
}

Type Type::uint(unsigned bits) {
  if (!valid_int_bits(bits)) throw std::invalid_argument("abi::Type::uint: bad width");
  return Type(Kind::kUint, bits, 0, {});
}

Type Type::int_(unsigned bits) {
  if (!valid_int_bits(bits)) throw std::invalid_argument("abi::Type::int_: bad width");
  return Type(Kind::kInt, bits, 0, {});
}

Type Type::address() {
  return Type(Kind::kAddress, 160, 0, {});
}

Type Type::boolean() {
  return Type(Kind::kBool, 0, 0, {});
}

Type Type::fixed_bytes(std::size_t size) {
  if (size == 0 || size > 32) throw std::invalid_argument("abi::Type::fixed_bytes: size must be 1..32");
  return Type(Kind::kFixedBytes, 0, size, {});
}

Type Type::bytes() {
  return Type(Kind::kBytes, 0, 0, {});
}

Type Type::string() {
  return Type(Kind::kString, 0, 0, {});
}

Type Type::array(Type element) {
  return Type(Kind::kArray, 0, 0, {std::move(element)});
}

Type Type::fixed_array(Type element, std::size_t length) {
  if (length == 0) throw std::invalid_argument("abi::Type::fixed_array: zero length");
  return Type(Kind::kFixedArray, 0, length, {std::move(element)});
}

Type Type::tuple(std::vector<Type> components) {
  const std::size_t count = components.size();
  return Type(Kind::kTuple, 0, count, std::move(components));
}

const Type& Type::element() const {
  if (kind_ != Kind::kArray && kind_ != Kind::kFixedArray) throw std::logic_error("abi::Type::element");
  return children_[0];
}

const std::vector<Type>& Type::components() const {
  if (kind_ != Kind::kTuple) throw std::logic_error("abi::Type::components");
  return children_;
}

bool Type::is_elementary() const {
  return kind_ == Kind::kUint || kind_ == Kind::kInt || kind_ == Kind::kAddress || kind_ == Kind::kBool ||
         kind_ == Kind::kFixedBytes;
}

std::string Type::canonical() const {
  switch (kind_) {
    case Kind::kUint:
      return "uint" + std::to_string(bits_);
    case Kind::kInt:
      return "int" + std::to_string(bits_);
    case Kind::kAddress:
      return "address";
    case Kind::kBool:
      return "bool";
    case Kind::kFixedBytes:
      return "bytes" + std::to_string(size_);
    case Kind::kBytes:
      return "bytes";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return children_[0].canonical() + "[]";
    case Kind::kFixedArray:
      return children_[0].canonical() + "[" + std::to_string(size_) + "]";
    case Kind::kTuple:
      return canonical_list(children_);
  }
  return {};
}

std::string canonical_list(const std::vector<Type>& types) {
  std::string out = "(";
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += types[i].canonical();
  }
  out.push_back(')');
  return out;
}

common::Result<std::vector<Parameter>> parse_parameter_list(std::string_view text, std::size_t& pos,
                                                            bool allow_indexed) {
  if (pos >= text.size() || text[pos] != '(')
    return invalid("expected '(' at position " + std::to_string(pos));
  ++pos;
  std::vector<Parameter> params;
  skip_spaces(text, pos);
  if (pos < text.size() && text[pos] == ')') {
    ++pos;
    return params;
  }
  while (true) {
    skip_spaces(text, pos);
    auto type = parse_type_at(text, pos, 1);
    if (!type) return type.error();
    Parameter param{std::move(type).value(), false, {}};
    skip_spaces(text, pos);
    std::string_view word = read_identifier(text, pos);
    if (word == "indexed") {
      if (!allow_indexed) return invalid("'indexed' is only allowed in event signatures");
      param.indexed = true;
      skip_spaces(text, pos);
      word = read_identifier(text, pos);
    }
    param.name = std::string(word);
    params.push_back(std::move(param));
    skip_spaces(text, pos);
    if (pos < text.size() && text[pos] == ',') {
      ++pos;
    } else if (pos < text.size() && text[pos] == ')') {
      ++pos;
      return params;
    } else {
      return invalid("expected ',' or ')' at position " + std::to_string(pos));
    }
  }
}

common::Result<std::vector<Type>> parse_types(std::string_view text) {
  if (text.empty()) return std::vector<Type>{};
  const std::string wrapped = "(" + std::string(text) + ")";
  auto tuple = Type::parse(wrapped);
  if (!tuple) return tuple.error();
  return tuple->components();
}

}  // namespace rally::critique::eth::abi
