// A 20-byte Ethereum account address. Parsing enforces EIP-55 when the text is mixed case: a mistyped
// address in a config file or request then fails instead of sending funds or calls to the wrong account.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "services/common/errors.h"

namespace rally::critique::eth {

struct Address {
  std::array<std::uint8_t, 20> bytes{};

  // "0x" (or "0X") and 40 hex digits. All lower- or all upper-case digits are accepted as they are; mixed
  // case must be the EIP-55 checksum of the address, else kInvalidRequest.
  static common::Result<Address> parse(std::string_view text);
  // Exactly 20 bytes, else kInvalidRequest (e.g. an RLP "to" field of the wrong length).
  static common::Result<Address> from_bytes(std::span<const std::uint8_t> raw);

  // EIP-55 mixed-case form, "0x"-prefixed.
  std::string checksummed() const;
  // "0x" and 40 lower-case hex digits (what JSON-RPC nodes return).
  std::string lower_hex() const;
  bool is_zero() const;

  friend bool operator==(const Address&, const Address&) = default;
  friend auto operator<=>(const Address&, const Address&) = default;
};

}  // namespace rally::critique::eth
