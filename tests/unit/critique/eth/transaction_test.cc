#include "services/critique/eth/transaction.h"

#include <catch2/catch.hpp>

#include "services/critique/eth/rlp.h"

namespace rally::critique::eth {
namespace {

constexpr std::string_view kEip155Key = "0x4646464646464646464646464646464646464646464646464646464646464646";
constexpr std::string_view kAnvilKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

U256 dec(std::string_view text) {
  return U256::parse_decimal(text).value();
}

// The example of the EIP-155 specification.
LegacyTransaction eip155_example() {
  LegacyTransaction tx;
  tx.nonce = U256::from_u64(9);
  tx.gas_price = dec("20000000000");
  tx.gas_limit = U256::from_u64(21000);
  tx.to = Address::parse("0x3535353535353535353535353535353535353535").value();
  tx.value = dec("1000000000000000000");
  tx.chain_id = 1;
  return tx;
}

Eip1559Transaction sample_eip1559() {
  Eip1559Transaction tx;
  tx.chain_id = 696969;
  tx.nonce = U256::from_u64(3);
  tx.max_priority_fee_per_gas = dec("1000000000");
  tx.max_fee_per_gas = dec("5000000000");
  tx.gas_limit = U256::from_u64(2000000);
  tx.to = Address::parse("0x5FbDB2315678afecb367f032d93F642f64180aa3").value();
  tx.value = U256();
  tx.data = from_hex("0x469c8110").value();
  return tx;
}

}  // namespace

TEST_CASE("The EIP-155 example signs byte for byte", "[eth]") {
  const PrivateKey key = PrivateKey::from_hex(kEip155Key).value();
  const LegacyTransaction tx = eip155_example();
  CHECK(to_hex(signing_hash(tx)) == "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
  const Bytes raw = sign_legacy(tx, key);
  CHECK(to_hex(raw) ==
        "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef6134"
        "0bd939bc2195fe53"
        "7567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a"
        "3b6d83");
  CHECK(transaction_hash(raw) == keccak256(raw));
  CHECK(recover_sender_legacy(raw).value() == key.address());
}

TEST_CASE("Legacy signing on the oracle's chain puts chain_id * 2 + 35 + recovery id in v", "[eth]") {
  const PrivateKey key = PrivateKey::from_hex(kAnvilKey).value();
  LegacyTransaction tx = eip155_example();
  tx.chain_id = 696969;
  tx.to.reset();  // contract creation: an empty "to"
  tx.data = Bytes(100, 0x60);
  const Bytes raw = sign_legacy(tx, key);
  const auto decoded = rlp::decode(raw);
  REQUIRE(decoded.ok());
  const auto& fields = decoded->as_list();
  REQUIRE(fields.size() == 9);
  CHECK(fields[3].as_bytes().empty());
  CHECK(fields[5].as_bytes() == tx.data);
  const std::uint64_t v = fields[6].as_uint().value().to_u64().value();
  CHECK((v == 696969 * 2 + 35 || v == 696969 * 2 + 36));
  CHECK(recover_sender_legacy(raw).value() == key.address());
}

TEST_CASE("Legacy signing with chain id 0 is unprotected: v is 27 or 28", "[eth]") {
  const PrivateKey key = PrivateKey::from_hex(kAnvilKey).value();
  LegacyTransaction tx = eip155_example();
  tx.chain_id = 0;
  const Bytes raw = sign_legacy(tx, key);
  const std::uint64_t v = rlp::decode(raw).value().as_list()[6].as_uint().value().to_u64().value();
  CHECK((v == 27 || v == 28));
  CHECK(recover_sender_legacy(raw).value() == key.address());
}

TEST_CASE("An EIP-1559 transaction decodes to its fields and recovers to its signer", "[eth]") {
  const PrivateKey key = PrivateKey::from_hex(kAnvilKey).value();
  const Eip1559Transaction tx = sample_eip1559();
  const Bytes raw = sign_eip1559(tx, key);
  REQUIRE(raw.size() > 1);
  CHECK(raw[0] == 0x02);
  CHECK(sign_eip1559(tx, key) == raw);  // RFC 6979: deterministic

  const auto decoded = rlp::decode(std::span<const std::uint8_t>(raw).subspan(1));
  REQUIRE(decoded.ok());
  REQUIRE(decoded->is_list());
  const auto& f = decoded->as_list();
  REQUIRE(f.size() == 12);
  CHECK(f[0].as_uint() == U256::from_u64(696969));
  CHECK(f[1].as_uint() == U256::from_u64(3));
  CHECK(f[2].as_uint() == dec("1000000000"));
  CHECK(f[3].as_uint() == dec("5000000000"));
  CHECK(f[4].as_uint() == U256::from_u64(2000000));
  CHECK(Address::from_bytes(f[5].as_bytes()).value() == tx.to.value());
  CHECK(f[6].as_bytes().empty());  // value 0
  CHECK(f[7].as_bytes() == tx.data);
  CHECK(f[8] == rlp::Item::list({}));  // empty access list
  const U256 y_parity = f[9].as_uint().value();
  CHECK((y_parity == U256() || y_parity == U256::from_u64(1)));
  // r and s are minimal integers: no leading zero byte.
  CHECK(f[10].as_uint().has_value());
  CHECK(f[11].as_uint().has_value());

  Signature sig;
  sig.r = f[10].as_uint()->to_big_endian();
  sig.s = f[11].as_uint()->to_big_endian();
  sig.recovery_id = static_cast<int>(y_parity.to_u64().value());
  CHECK(recover_address(signing_hash(tx), sig).value() == key.address());
  CHECK(recover_sender_eip1559(raw).value() == key.address());
}

TEST_CASE("The signing hash covers every field", "[eth]") {
  const Eip1559Transaction base = sample_eip1559();
  Eip1559Transaction changed = base;
  changed.nonce = U256::from_u64(4);
  CHECK(signing_hash(changed) != signing_hash(base));
  changed = base;
  changed.chain_id = 1;
  CHECK(signing_hash(changed) != signing_hash(base));
  changed = base;
  changed.data.push_back(0);
  CHECK(signing_hash(changed) != signing_hash(base));
}

TEST_CASE("Recovering a sender from malformed raw transactions is an error", "[eth]") {
  const PrivateKey key = PrivateKey::from_hex(kAnvilKey).value();
  CHECK_FALSE(recover_sender_legacy(Bytes{}).ok());
  CHECK_FALSE(recover_sender_legacy(from_hex("0xc0").value()).ok());
  CHECK_FALSE(recover_sender_eip1559(Bytes{0x02}).ok());
  CHECK_FALSE(recover_sender_eip1559(Bytes{0x01, 0xc0}).ok());
  // A legacy transaction is not a type-2 one and the other way round.
  const Bytes legacy = sign_legacy(eip155_example(), key);
  CHECK_FALSE(recover_sender_eip1559(legacy).ok());
  const Bytes typed = sign_eip1559(sample_eip1559(), key);
  CHECK_FALSE(recover_sender_legacy(typed).ok());
  // A tampered field recovers someone else (or nothing).
  Bytes tampered = legacy;
  tampered[2] ^= 0x01;  // the nonce
  const auto other = recover_sender_legacy(tampered);
  CHECK((!other.ok() || other.value() != key.address()));
}

}  // namespace rally::critique::eth
