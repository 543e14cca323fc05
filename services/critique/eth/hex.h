// Hex text <-> bytes, as Ethereum JSON-RPC writes data: "0x"-prefixed, lower case on output. Input from a
// node or a config file is untrusted, so from_hex reports a malformed string as an error instead of guessing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::critique::eth {

using Bytes = std::vector<std::uint8_t>;

// "0x" followed by two lower-case hex digits per byte; "0x" for no bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Accepts an optional "0x"/"0X" prefix, then an even number of hex digits (either case). Anything else is a
// kInvalidRequest error whose message says what is wrong (odd length, the first bad character's position).
common::Result<Bytes> from_hex(std::string_view text);

// The value of one hex digit, or -1.
int hex_digit_value(char c);

}  // namespace rally::critique::eth
