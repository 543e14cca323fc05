// Recursive Length Prefix, the serialisation signed transactions use (Ethereum yellow paper, appendix B). The
// decoder reads bytes from the network and from callers' raw transactions, so it is strict: only the one
// canonical encoding of an item is accepted and any other input is an error, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "services/common/errors.h"
#include "services/critique/eth/hex.h"
#include "services/critique/eth/u256.h"

namespace rally::critique::eth::rlp {

// A byte string or a list of items.
class Item {
 public:
  Item() = default;  // the empty byte string

  static Item bytes(Bytes value);
  static Item string(std::string_view text);
  // Integers are minimal big-endian byte strings: 0 is the empty string (0x80).
  static Item uint(const U256& value);
  static Item uint(std::uint64_t value);
  static Item list(std::vector<Item> items);

  bool is_list() const { return is_list_; }
  // The wrong accessor for the item's kind is a programming error: std::logic_error. Check is_list() first
  // on decoded input.
  const Bytes& as_bytes() const;
  const std::vector<Item>& as_list() const;
  // A byte string read as a canonical integer (no leading zero byte, at most 32 bytes), else nullopt.
  std::optional<U256> as_uint() const;

  friend bool operator==(const Item&, const Item&) = default;

 private:
  bool is_list_ = false;
  Bytes bytes_;
  std::vector<Item> items_;
};

Bytes encode(const Item& item);

// Lists nest at most this deep in decoded input (transactions need 3): a deeper input is an error instead of
// a stack overflow.
inline constexpr int kMaxDepth = 64;

// Exactly one item filling `data`. Errors (kInvalidRequest): empty or truncated input, trailing bytes, a
// single byte below 0x80 encoded with a prefix, a long form for a length under 56, a length with leading
// zero bytes, lengths beyond the input, nesting deeper than kMaxDepth.
common::Result<Item> decode(std::span<const std::uint8_t> data);

}  // namespace rally::critique::eth::rlp
