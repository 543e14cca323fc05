// secp256k1 keys: the service's signing key and recovery of a signer from a signature. The key material
// never leaves the object in printable form (no to_string, no operator<<, no accessor for the secret), and
// the bytes are wiped when a key is destroyed, so it cannot end up in logs or error messages by accident.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "services/common/errors.h"
#include "services/critique/eth/address.h"
#include "services/critique/eth/keccak.h"

namespace rally::critique::eth {

// A recoverable ECDSA signature, as transactions carry it.
struct Signature {
  std::array<std::uint8_t, 32> r{};
  std::array<std::uint8_t, 32> s{};
  int recovery_id = 0;  // 0 or 1 (the y parity of the nonce point)
};

class PrivateKey {
 public:
  // 64 hex digits, optionally "0x"-prefixed, forming a valid secret (non-zero, below the curve order). The
  // error message never repeats the text.
  static common::Result<PrivateKey> from_hex(std::string_view text);
  static common::Result<PrivateKey> from_bytes(std::span<const std::uint8_t> secret);

  PrivateKey(const PrivateKey& other) = default;
  PrivateKey& operator=(const PrivateKey& other) = default;
  ~PrivateKey();

  // The account this key controls: the last 20 bytes of keccak256 of the uncompressed public key (x || y).
  Address address() const { return address_; }
  // The uncompressed public key without its 0x04 prefix: x || y, 32 bytes each, big-endian.
  const std::array<std::uint8_t, 64>& public_key() const { return public_key_; }

  // Deterministic (RFC 6979) and low-S, as libsecp256k1 produces: the same digest gives the same signature.
  Signature sign_digest(const Hash32& digest) const;

 private:
  PrivateKey() = default;

  std::array<std::uint8_t, 32> secret_{};
  std::array<std::uint8_t, 64> public_key_{};
  Address address_;
};

// The address whose key made `signature` over `digest`. A malformed signature (r or s zero or out of range,
// recovery id not 0..3) or one that recovers no point is kInvalidRequest.
common::Result<Address> recover_address(const Hash32& digest, const Signature& signature);

// keccak256(x || y)[12..32].
Address address_from_public_key(const std::array<std::uint8_t, 64>& public_key);

}  // namespace rally::critique::eth
