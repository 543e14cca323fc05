#include "services/critique/eth/abi_value.h"

namespace rally::critique::eth::abi {

Value Value::uint(const U256& value) {
  Value out;
  out.kind_ = Kind::kUint;
  out.word_ = value;
  return out;
}

Value Value::uint(std::uint64_t value) {
  return uint(U256::from_u64(value));
}

Value Value::int_(std::int64_t value) {
  const U256 magnitude =
      U256::from_u64(value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
  return int_word(value < 0 ? -magnitude : magnitude);
}

Value Value::int_word(const U256& twos_complement) {
  Value out;
  out.kind_ = Kind::kInt;
  out.word_ = twos_complement;
  return out;
}

Value Value::address(const Address& value) {
  Value out;
  out.kind_ = Kind::kAddress;
  out.address_ = value;
  return out;
}

Value Value::boolean(bool value) {
  Value out;
  out.kind_ = Kind::kBool;
  out.word_ = U256::from_u64(value ? 1 : 0);
  return out;
}

Value Value::bytes(Bytes value) {
  Value out;
  out.kind_ = Kind::kBytes;
  out.bytes_ = std::move(value);
  return out;
}

Value Value::fixed_bytes(Bytes value) {
  Value out;
  out.kind_ = Kind::kFixedBytes;
  out.bytes_ = std::move(value);
  return out;
}

Value Value::string(std::string value) {
  Value out;
  out.kind_ = Kind::kString;
  out.bytes_.assign(value.begin(), value.end());
  return out;
}

Value Value::array(std::vector<Value> items) {
  Value out;
  out.kind_ = Kind::kArray;
  out.items_ = std::move(items);
  return out;
}

Value Value::tuple(std::vector<Value> items) {
  Value out;
  out.kind_ = Kind::kTuple;
  out.items_ = std::move(items);
  return out;
}

std::optional<U256> Value::as_uint() const {
  if (kind_ != Kind::kUint) return std::nullopt;
  return word_;
}

std::optional<U256> Value::as_int_word() const {
  if (kind_ != Kind::kInt) return std::nullopt;
  return word_;
}

std::optional<std::int64_t> Value::as_int64() const {
  if (kind_ != Kind::kInt) return std::nullopt;
  const bool negative = word_.bit(255);
  const U256 magnitude = negative ? -word_ : word_;
  const auto small = magnitude.to_u64();
  if (!small) return std::nullopt;
  constexpr std::uint64_t kMaxPositive = 0x7fffffffffffffffULL;
  if (!negative) {
    if (*small > kMaxPositive) return std::nullopt;
    return static_cast<std::int64_t>(*small);
  }
  if (*small > kMaxPositive + 1) return std::nullopt;
  return *small == kMaxPositive + 1 ? INT64_MIN : -static_cast<std::int64_t>(*small);
}

std::optional<Address> Value::as_address() const {
  if (kind_ != Kind::kAddress) return std::nullopt;
  return address_;
}

std::optional<bool> Value::as_bool() const {
  if (kind_ != Kind::kBool) return std::nullopt;
  return !word_.is_zero();
}

std::optional<Bytes> Value::as_bytes() const {
  if (kind_ != Kind::kBytes && kind_ != Kind::kFixedBytes) return std::nullopt;
  return bytes_;
}

std::optional<std::string> Value::as_string() const {
  if (kind_ != Kind::kString) return std::nullopt;
  return std::string(bytes_.begin(), bytes_.end());
}

std::optional<std::vector<Value>> Value::as_list() const {
  if (kind_ != Kind::kArray && kind_ != Kind::kTuple) return std::nullopt;
  return items_;
}

}  // namespace rally::critique::eth::abi
