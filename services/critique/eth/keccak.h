// Keccak-256 as Ethereum uses it: the original Keccak submission's padding (0x01), not FIPS-202 SHA3-256
// (0x06), so OpenSSL's SHA3 gives different digests. Hashes addresses, selectors, event topics and signed
// transactions. Own implementation of Keccak-f[1600]: small, constant tables only, no library to link.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace rally::critique::eth {

using Hash32 = std::array<std::uint8_t, 32>;

Hash32 keccak256(std::span<const std::uint8_t> data);
Hash32 keccak256(std::string_view text);

}  // namespace rally::critique::eth
