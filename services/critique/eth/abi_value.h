// A value of an ABI type, for encoding call arguments and holding decoded results and event fields. Values
// carry their own kind so that encode() can reject a value that does not match its declared type instead of
// writing calldata the contract would misread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/critique/eth/address.h"
#include "services/critique/eth/hex.h"
#include "services/critique/eth/u256.h"

namespace rally::critique::eth::abi {

class Value {
 public:
  enum class Kind { kUint, kInt, kAddress, kBool, kBytes, kFixedBytes, kString, kArray, kTuple };

  Value() = default;  // boolean false

  static Value uint(const U256& value);
  static Value uint(std::uint64_t value);
  static Value int_(std::int64_t value);
  // A signed integer given as its 256-bit two's complement word (-1 is U256::max()); for values beyond int64.
  static Value int_word(const U256& twos_complement);
  static Value address(const Address& value);
  static Value boolean(bool value);
  static Value bytes(Bytes value);
  static Value fixed_bytes(Bytes value);  // bytesN: exactly N bytes, checked against the type by encode()
  static Value string(std::string value);
  static Value array(std::vector<Value> items);  // T[] and T[k]
  static Value tuple(std::vector<Value> items);

  Kind kind() const { return kind_; }

  // Accessors return nullopt when the value is of another kind (decoded data is matched against the
  // declared types, so a nullopt after a successful decode means the caller asked for the wrong field).
  // They return copies: ABI values in this suite are a handful of fields.
  std::optional<U256> as_uint() const;                // kUint
  std::optional<U256> as_int_word() const;            // kInt, as its two's complement word
  std::optional<std::int64_t> as_int64() const;       // kInt within int64's range
  std::optional<Address> as_address() const;          // kAddress
  std::optional<bool> as_bool() const;                // kBool
  std::optional<Bytes> as_bytes() const;              // kBytes and kFixedBytes
  std::optional<std::string> as_string() const;       // kString (bytes as decoded; UTF-8 is not checked)
  std::optional<std::vector<Value>> as_list() const;  // kArray and kTuple

  // The integer word of kUint, kInt and kBool values (zero for other kinds), the bytes of kBytes,
  // kFixedBytes and kString, the items of kArray and kTuple: no copies, for the encoder.
  const U256& word() const { return word_; }
  const Bytes& raw_bytes() const { return bytes_; }
  const std::vector<Value>& items() const { return items_; }
  const Address& raw_address() const { return address_; }

  friend bool operator==(const Value&, const Value&) = default;

 private:
  Kind kind_ = Kind::kBool;
  U256 word_;
  Address address_;
  Bytes bytes_;
  std::vector<Value> items_;
};

}  // namespace rally::critique::eth::abi
