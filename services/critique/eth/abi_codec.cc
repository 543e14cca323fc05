#include "services/critique/eth/abi_codec.h"

#include <algorithm>
#include <optional>

namespace rally::critique::eth::abi {
namespace {

using Status = std::optional<common::Error>;  // nullopt = success
using TypeList = std::vector<const Type*>;

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, "ABI: " + std::move(message));
}

constexpr std::size_t kWord = 32;

std::size_t padded(std::size_t size) {
  return (size + kWord - 1) / kWord * kWord;
}

void append_word(Bytes& out, const U256& value) {
  const auto word = value.to_big_endian();
  out.insert(out.end(), word.begin(), word.end());
}

// The content of bytes/string/bytesN, right-padded with zeros to whole words.
void append_padded(Bytes& out, const Bytes& content) {
  out.insert(out.end(), content.begin(), content.end());
  out.resize(out.size() + padded(content.size()) - content.size(), 0);
}

// True when `word` is a valid two's complement intN: the bits above N-1 all copy the sign bit.
bool fits_signed(const U256& word, unsigned bits) {
  if (bits == 256) return true;
  const U256 top = word >> (bits - 1);
  return top.is_zero() || top == (U256::max() >> (bits - 1));
}

std::string mismatch(const Type& type, const std::string& where, const char* what) {
  return where + ": " + what + " for type " + type.canonical();
}

Status encode_sequence(const TypeList& types, const std::vector<Value>& values, Bytes& out,
                       const std::string& where);

Status encode_value(const Type& type, const Value& value, Bytes& out, const std::string& where) {
  using K = Type::Kind;
  switch (type.kind()) {
    case K::kUint:
      if (value.kind() != Value::Kind::kUint)
        return invalid(mismatch(type, where, "value is not an unsigned int"));
      if (value.word().bit_length() > type.bits())
        return invalid(mismatch(type, where, "value out of range"));
      append_word(out, value.word());
      return std::nullopt;
    case K::kInt:
      if (value.kind() != Value::Kind::kInt)
        return invalid(mismatch(type, where, "value is not a signed int"));
      if (!fits_signed(value.word(), type.bits()))
        return invalid(mismatch(type, where, "value out of range"));
      append_word(out, value.word());
      return std::nullopt;
    case K::kAddress: {
      if (value.kind() != Value::Kind::kAddress)
        return invalid(mismatch(type, where, "value is not an address"));
      out.resize(out.size() + 12, 0);
      const auto& raw = value.raw_address().bytes;
      out.insert(out.end(), raw.begin(), raw.end());
      return std::nullopt;
    }
    case K::kBool:
      if (value.kind() != Value::Kind::kBool) return invalid(mismatch(type, where, "value is not a bool"));
      append_word(out, value.word());
      return std::nullopt;
    case K::kFixedBytes:
      if (value.kind() != Value::Kind::kFixedBytes || value.raw_bytes().size() != type.size()) {
        return invalid(mismatch(type, where, "value is not fixed bytes of that size"));
      }
      append_padded(out, value.raw_bytes());
      return std::nullopt;
    case K::kBytes:
    case K::kString: {
      const auto expected = type.kind() == K::kBytes ? Value::Kind::kBytes : Value::Kind::kString;
      if (value.kind() != expected) return invalid(mismatch(type, where, "value of another kind"));
      append_word(out, U256::from_u64(value.raw_bytes().size()));
      append_padded(out, value.raw_bytes());
      return std::nullopt;
    }
    case K::kArray:
    case K::kFixedArray: {
      if (value.kind() != Value::Kind::kArray) return invalid(mismatch(type, where, "value is not an array"));
      const std::size_t count = value.items().size();
      if (type.kind() == K::kFixedArray && count != type.size()) {
        return invalid(mismatch(type, where, "array has the wrong number of items"));
      }
      if (type.kind() == K::kArray) append_word(out, U256::from_u64(count));
      return encode_sequence(TypeList(count, &type.element()), value.items(), out, where);
    }
    case K::kTuple: {
      if (value.kind() != Value::Kind::kTuple || value.items().size() != type.size()) {
        return invalid(mismatch(type, where, "value is not a tuple of that many items"));
      }
      TypeList components;
      for (const Type& c : type.components()) components.push_back(&c);
      return encode_sequence(components, value.items(), out, where);
    }
  }
  return invalid(where + ": unknown type");
}

// Heads in order, then the tails of the dynamic items; each dynamic head is the offset of its tail from the
// start of this sequence.
Status encode_sequence(const TypeList& types, const std::vector<Value>& values, Bytes& out,
                       const std::string& where) {
  if (types.size() != values.size()) {
    return invalid(where + ": " + std::to_string(values.size()) + " values for " +
                   std::to_string(types.size()) + " types");
  }
  std::size_t heads_size = 0;
  for (const Type* t : types) heads_size += t->head_size();
  Bytes heads;
  Bytes tails;
  heads.reserve(heads_size);
  for (std::size_t i = 0; i < types.size(); ++i) {
    const std::string here = where + "[" + std::to_string(i) + "]";
    if (types[i]->is_dynamic()) {
      append_word(heads, U256::from_u64(heads_size + tails.size()));
      if (auto error = encode_value(*types[i], values[i], tails, here)) return error;
    } else {
      if (auto error = encode_value(*types[i], values[i], heads, here)) return error;
    }
  }
  out.insert(out.end(), heads.begin(), heads.end());
  out.insert(out.end(), tails.begin(), tails.end());
  return std::nullopt;
}

// What one decode() may still produce: every decoded value and every copied byte is charged, so offsets
// pointing many times at the same tail cannot make a small input expand without bound.
struct Budget {
  std::size_t values = 0;
  std::size_t bytes = 0;
};

constexpr const char* kTooManyValues = "data expands to too many values (aliased offsets?)";

class Decoder {
 public:
  explicit Decoder(std::size_t input_size)
      : budget_{1024 + 16 * (input_size / kWord), 1024 + 2 * input_size} {}

  common::Result<std::vector<Value>> sequence(const TypeList& types, std::span<const std::uint8_t> block) {
    std::vector<Value> out;
    out.reserve(types.size());
    std::size_t pos = 0;
    for (const Type* type : types) {
      if (type->head_size() > block.size() - pos) return invalid("data too short for " + type->canonical());
      std::span<const std::uint8_t> at = block.subspan(pos, type->head_size());
      if (type->is_dynamic()) {
        const auto offset = U256::from_big_endian(at).to_u64();
        if (!offset || *offset > block.size()) return invalid("offset past the end of the data");
        at = block.subspan(static_cast<std::size_t>(*offset));
      }
      auto value = single(*type, at);
      if (!value) return value.error();
      out.push_back(std::move(value).value());
      pos += type->head_size();
    }
    return out;
  }

 private:
  common::Result<Value> single(const Type& type, std::span<const std::uint8_t> data) {
    using K = Type::Kind;
    if (budget_.values == 0) return invalid(kTooManyValues);
    --budget_.values;
    // Fixed arrays and tuples have no word of their own: `data` is their block.
    if (type.kind() == K::kFixedArray) return list(TypeList(type.size(), &type.element()), data, true);
    if (type.kind() == K::kTuple) {
      TypeList components;
      for (const Type& c : type.components()) components.push_back(&c);
      return list(components, data, false);
    }
    if (data.size() < kWord) return invalid("data too short for " + type.canonical());
    const U256 word = U256::from_big_endian(data.first(kWord));
    switch (type.kind()) {
      case K::kUint:
        if (word.bit_length() > type.bits())
          return invalid("uint" + std::to_string(type.bits()) + " out of range");
        return Value::uint(word);
      case K::kInt:
        if (!fits_signed(word, type.bits()))
          return invalid("int" + std::to_string(type.bits()) + " out of range");
        return Value::int_word(word);
      case K::kAddress: {
        if (word.bit_length() > 160) return invalid("address has non-zero padding");
        return Value::address(Address::from_bytes(data.subspan(12, 20)).value());
      }
      case K::kBool:
        if (word.bit_length() > 1) return invalid("bool is neither 0 nor 1");
        return Value::boolean(!word.is_zero());
      case K::kFixedBytes: {
        const auto rest = data.subspan(type.size(), kWord - type.size());
        if (std::any_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; })) {
          return invalid("bytes" + std::to_string(type.size()) + " has non-zero padding");
        }
        return Value::fixed_bytes(
            Bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(type.size())));
      }
      case K::kBytes:
      case K::kString: {
        const auto length = word.to_u64();
        if (!length || *length > data.size() - kWord) return invalid("length past the end of the data");
        if (*length > budget_.bytes) return invalid("data expands to too many bytes (aliased offsets)");
        budget_.bytes -= static_cast<std::size_t>(*length);
        const auto content = data.subspan(kWord, static_cast<std::size_t>(*length));
        if (type.kind() == K::kBytes) return Value::bytes(Bytes(content.begin(), content.end()));
        return Value::string(std::string(content.begin(), content.end()));
      }
      case K::kArray: {
        const auto length = word.to_u64();
        const std::size_t room = data.size() - kWord;
        const std::size_t footprint = type.element().head_size();
        // Each element needs its head in the data; zero-size elements (empty tuples) are bounded by the
        // budget.
        if (!length || (footprint != 0 && *length > room / footprint)) {
          return invalid("array length " + word.to_decimal() + " past the end of the data");
        }
        if (*length > budget_.values) return invalid(kTooManyValues);
        return list(TypeList(static_cast<std::size_t>(*length), &type.element()), data.subspan(kWord), true);
      }
      case K::kFixedArray:
      case K::kTuple:
        break;  // handled above
    }
    return invalid("unknown type");
  }

  common::Result<Value> list(const TypeList& types, std::span<const std::uint8_t> block, bool array) {
    if (types.empty()) return array ? Value::array({}) : Value::tuple({});
    auto items = sequence(types, block);
    if (!items) return items.error();
    return array ? Value::array(std::move(items).value()) : Value::tuple(std::move(items).value());
  }

  Budget budget_;
};

}  // namespace

common::Result<Bytes> encode(const std::vector<Type>& types, const std::vector<Value>& values) {
  TypeList list;
  for (const Type& t : types) list.push_back(&t);
  Bytes out;
  if (auto error = encode_sequence(list, values, out, "argument")) return *error;
  return out;
}

common::Result<std::vector<Value>> decode(const std::vector<Type>& types,
                                          std::span<const std::uint8_t> data) {
  TypeList list;
  for (const Type& t : types) list.push_back(&t);
  return Decoder(data.size()).sequence(list, data);
}

}  // namespace rally::critique::eth::abi
