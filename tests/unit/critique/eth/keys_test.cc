#include "services/critique/eth/keys.h"

#include <catch2/catch.hpp>
#include <ostream>
#include <string>
#include <type_traits>

#include "services/critique/eth/hex.h"

namespace rally::critique::eth {
namespace {

constexpr std::string_view kAnvilKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr std::string_view kEip155Key = "0x4646464646464646464646464646464646464646464646464646464646464646";

// The secp256k1 group order n.
constexpr std::string_view kCurveOrder = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) {
  os << t;
};

}  // namespace

TEST_CASE("Private keys derive the known addresses", "[eth]") {
  CHECK(PrivateKey::from_hex(kAnvilKey).value().address().checksummed() ==
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  // The sender of the EIP-155 example transaction.
  CHECK(PrivateKey::from_hex(kEip155Key).value().address().checksummed() ==
        "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
  // Without the prefix, upper case.
  CHECK(PrivateKey::from_hex("AC0974BEC39A17E36BA4A6B4D238FF944BACB478CBED5EFCAE784D7BF4F2FF80")
            .value()
            .address() == Address::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").value());
}

TEST_CASE("Invalid secrets are rejected without echoing the key", "[eth]") {
  const std::string zero = "0x" + std::string(64, '0');
  const auto zero_key = PrivateKey::from_hex(zero);
  REQUIRE_FALSE(zero_key.ok());
  CHECK(zero_key.error().code == common::ErrorCode::kInvalidRequest);
  CHECK(zero_key.error().message.find(std::string(64, '0')) == std::string::npos);

  CHECK_FALSE(PrivateKey::from_hex(kCurveOrder).ok());                             // n itself is out of range
  CHECK(PrivateKey::from_hex(std::string(kCurveOrder.substr(0, 63)) + "0").ok());  // n - 1 is fine
  CHECK_FALSE(PrivateKey::from_hex(kAnvilKey.substr(0, 64)).ok());                 // 62 digits
  const auto bad_digit =
      PrivateKey::from_hex("0xzz0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  REQUIRE_FALSE(bad_digit.ok());
  CHECK(bad_digit.error().message.find("0974bec3") == std::string::npos);
  CHECK_FALSE(PrivateKey::from_bytes(Bytes(31, 1)).ok());
}

TEST_CASE("Key material has no printable form", "[eth]") {
  STATIC_REQUIRE_FALSE(Streamable<PrivateKey>);
  STATIC_REQUIRE_FALSE(std::is_default_constructible_v<PrivateKey>);
}

TEST_CASE("Signatures are deterministic, low-S and recover to the signer", "[eth]") {
  const PrivateKey key = PrivateKey::from_hex(kAnvilKey).value();
  const Hash32 digest = keccak256(std::string_view("LlamaRally"));
  const Signature first = key.sign_digest(digest);
  const Signature second = key.sign_digest(digest);
  CHECK(first.r == second.r);
  CHECK(first.s == second.s);
  CHECK(first.recovery_id == second.recovery_id);
  CHECK((first.recovery_id == 0 || first.recovery_id == 1));
  CHECK(first.s[0] < 0x80);  // s <= n/2 (n/2 starts 0x7fff...)

  CHECK(recover_address(digest, first).value() == key.address());
  // Another digest or the other recovery id gives another address.
  CHECK(recover_address(keccak256(std::string_view("other")), first).value() != key.address());
  Signature flipped = first;
  flipped.recovery_id ^= 1;
  const auto flipped_address = recover_address(digest, flipped);
  CHECK((!flipped_address.ok() || flipped_address.value() != key.address()));
}

TEST_CASE("Malformed signatures are errors on recovery", "[eth]") {
  const Hash32 digest = keccak256(std::string_view("x"));
  Signature sig;  // r = s = 0
  CHECK_FALSE(recover_address(digest, sig).ok());
  sig.r.fill(0xff);  // r above the group order
  sig.s[31] = 1;
  CHECK_FALSE(recover_address(digest, sig).ok());
  sig.r.fill(0x11);
  sig.recovery_id = 4;
  CHECK_FALSE(recover_address(digest, sig).ok());
}

}  // namespace rally::critique::eth
