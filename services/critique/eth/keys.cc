#include "services/critique/eth/keys.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <stdexcept>

#include "services/critique/eth/hex.h"

namespace rally::critique::eth {
namespace {

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, std::move(message));
}

// Created once and never modified afterwards (not even randomised): libsecp256k1 allows concurrent use of
// a const context. Since 0.2.0 a SECP256K1_CONTEXT_NONE context signs, verifies and recovers.
const secp256k1_context* context() {
  static const secp256k1_context* const ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  return ctx;
}

// Volatile writes so the compiler cannot drop the wipe of an object about to die.
template <std::size_t N>
void wipe(std::array<std::uint8_t, N>& bytes) {
  volatile std::uint8_t* p = bytes.data();
  for (std::size_t i = 0; i < N; ++i) p[i] = 0;
}

std::array<std::uint8_t, 64> serialize_uncompressed(const secp256k1_pubkey& pubkey) {
  std::array<std::uint8_t, 65> full{};
  std::size_t size = full.size();
  secp256k1_ec_pubkey_serialize(context(), full.data(), &size, &pubkey, SECP256K1_EC_UNCOMPRESSED);
  std::array<std::uint8_t, 64> out{};
  std::copy(full.begin() + 1, full.end(), out.begin());
  return out;
}

}  // namespace

common::Result<PrivateKey> PrivateKey::from_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.size() != 64) return invalid("private key must be 64 hex digits");
  auto raw = eth::from_hex(text);
  if (!raw) return invalid("private key must be 64 hex digits");
  auto key = from_bytes(raw.value());
  std::fill(raw->begin(), raw->end(), std::uint8_t{0});
  return key;
}

common::Result<PrivateKey> PrivateKey::from_bytes(std::span<const std::uint8_t> secret) {
  if (secret.size() != 32) return invalid("private key must be 32 bytes");
  PrivateKey key;
  std::copy(secret.begin(), secret.end(), key.secret_.begin());
  if (secp256k1_ec_seckey_verify(context(), key.secret_.data()) != 1) {
    return invalid("private key is not a valid secp256k1 secret (zero or not below the curve order)");
  }
  secp256k1_pubkey pubkey;
  if (secp256k1_ec_pubkey_create(context(), &pubkey, key.secret_.data()) != 1) {
    return invalid("private key is not a valid secp256k1 secret");
  }
  key.public_key_ = serialize_uncompressed(pubkey);
  key.address_ = address_from_public_key(key.public_key_);
  return key;
}

PrivateKey::~PrivateKey() {
  wipe(secret_);
}

Signature PrivateKey::sign_digest(const Hash32& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // With the default nonce function (RFC 6979) signing fails only for a secret that from_bytes rejected.
  if (secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), secret_.data(), nullptr, nullptr) !=
      1) {
    throw std::logic_error("secp256k1_ecdsa_sign_recoverable failed on a verified key");
  }
  std::array<std::uint8_t, 64> compact{};
  Signature out;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), compact.data(), &out.recovery_id, &sig);
  std::copy(compact.begin(), compact.begin() + 32, out.r.begin());
  std::copy(compact.begin() + 32, compact.end(), out.s.begin());
  return out;
}

common::Result<Address> recover_address(const Hash32& digest, const Signature& signature) {
  if (signature.recovery_id < 0 || signature.recovery_id > 3) return invalid("recovery id must be 0..3");
  std::array<std::uint8_t, 64> compact{};
  std::copy(signature.r.begin(), signature.r.end(), compact.begin());
  std::copy(signature.s.begin(), signature.s.end(), compact.begin() + 32);
  secp256k1_ecdsa_recoverable_signature sig;
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &sig, compact.data(),
                                                          signature.recovery_id) != 1) {
    return invalid("signature r or s is out of range");
  }
  secp256k1_pubkey pubkey;
  if (secp256k1_ecdsa_recover(context(), &pubkey, &sig, digest.data()) != 1) {
    return invalid("signature recovers no public key");
  }
  return address_from_public_key(serialize_uncompressed(pubkey));
}

Address address_from_public_key(const std::array<std::uint8_t, 64>& public_key) {
  const Hash32 hash = keccak256(public_key);
  Address out;
  std::copy(hash.begin() + 12, hash.end(), out.bytes.begin());
  return out;
}

}  // namespace rally::critique::eth
