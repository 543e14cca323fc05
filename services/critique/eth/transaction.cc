#include "services/critique/eth/transaction.h"

#include <algorithm>
#include <vector>

#include "services/critique/eth/rlp.h"

namespace rally::critique::eth {
namespace {

constexpr std::uint8_t kEip1559Type = 0x02;

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, "transaction: " + std::move(message));
}

rlp::Item to_item(const std::optional<Address>& to) {
  if (!to) return rlp::Item::bytes({});
  return rlp::Item::bytes(Bytes(to->bytes.begin(), to->bytes.end()));
}

// r and s are integers in a transaction: minimal big-endian.
rlp::Item scalar_item(const std::array<std::uint8_t, 32>& value) {
  return rlp::Item::uint(U256::from_big_endian(value));
}

std::vector<rlp::Item> legacy_fields(const LegacyTransaction& tx) {
  return {rlp::Item::uint(tx.nonce),     rlp::Item::uint(tx.gas_price),
          rlp::Item::uint(tx.gas_limit), to_item(tx.to),
          rlp::Item::uint(tx.value),     rlp::Item::bytes(tx.data)};
}

std::vector<rlp::Item> eip1559_fields(const Eip1559Transaction& tx) {
  return {rlp::Item::uint(tx.chain_id),
          rlp::Item::uint(tx.nonce),
          rlp::Item::uint(tx.max_priority_fee_per_gas),
          rlp::Item::uint(tx.max_fee_per_gas),
          rlp::Item::uint(tx.gas_limit),
          to_item(tx.to),
          rlp::Item::uint(tx.value),
          rlp::Item::bytes(tx.data),
          rlp::Item::list({})};
}

Hash32 typed_hash(std::uint8_t type, const rlp::Item& payload) {
  Bytes bytes{type};
  const Bytes body = rlp::encode(payload);
  bytes.insert(bytes.end(), body.begin(), body.end());
  return keccak256(bytes);
}

// `body` decoded as a list of exactly `count` items, else an error.
common::Result<std::vector<rlp::Item>> read_fields(std::span<const std::uint8_t> body, std::size_t count) {
  auto decoded = rlp::decode(body);
  if (!decoded) return decoded.error();
  if (!decoded->is_list() || decoded->as_list().size() != count) {
    return invalid("expected a list of " + std::to_string(count) + " fields");
  }
  return decoded->as_list();
}

common::Result<U256> read_uint(const rlp::Item& item, const char* field) {
  const auto value = item.as_uint();
  if (!value) return invalid(std::string(field) + " is not a canonical integer");
  return *value;
}

common::Result<Signature> read_signature(const rlp::Item& r, const rlp::Item& s, int recovery_id) {
  auto r_value = read_uint(r, "r");
  if (!r_value) return r_value.error();
  auto s_value = read_uint(s, "s");
  if (!s_value) return s_value.error();
  Signature sig;
  sig.r = r_value->to_big_endian();
  sig.s = s_value->to_big_endian();
  sig.recovery_id = recovery_id;
  return sig;
}

}  // namespace

Hash32 signing_hash(const LegacyTransaction& tx) {
  std::vector<rlp::Item> fields = legacy_fields(tx);
  if (tx.chain_id != 0) {
    fields.push_back(rlp::Item::uint(tx.chain_id));
    fields.push_back(rlp::Item::uint(std::uint64_t{0}));
    fields.push_back(rlp::Item::uint(std::uint64_t{0}));
  }
  return keccak256(rlp::encode(rlp::Item::list(std::move(fields))));
}

Hash32 signing_hash(const Eip1559Transaction& tx) {
  return typed_hash(kEip1559Type, rlp::Item::list(eip1559_fields(tx)));
}

Bytes sign_legacy(const LegacyTransaction& tx, const PrivateKey& key) {
  const Signature sig = key.sign_digest(signing_hash(tx));
  const U256 recovery = U256::from_u64(static_cast<std::uint64_t>(sig.recovery_id));
  const U256 v = tx.chain_id == 0
                     ? U256::from_u64(27) + recovery
                     : U256::from_u64(tx.chain_id) * U256::from_u64(2) + U256::from_u64(35) + recovery;
  std::vector<rlp::Item> fields = legacy_fields(tx);
  fields.push_back(rlp::Item::uint(v));
  fields.push_back(scalar_item(sig.r));
  fields.push_back(scalar_item(sig.s));
  return rlp::encode(rlp::Item::list(std::move(fields)));
}

Bytes sign_eip1559(const Eip1559Transaction& tx, const PrivateKey& key) {
  const Signature sig = key.sign_digest(signing_hash(tx));
  std::vector<rlp::Item> fields = eip1559_fields(tx);
  fields.push_back(rlp::Item::uint(static_cast<std::uint64_t>(sig.recovery_id)));
  fields.push_back(scalar_item(sig.r));
  fields.push_back(scalar_item(sig.s));
  Bytes out{kEip1559Type};
  const Bytes body = rlp::encode(rlp::Item::list(std::move(fields)));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Hash32 transaction_hash(std::span<const std::uint8_t> raw) {
  return keccak256(raw);
}

common::Result<Address> recover_sender_legacy(std::span<const std::uint8_t> raw) {
  auto fields = read_fields(raw, 9);
  if (!fields) return fields.error();
  std::vector<rlp::Item>& f = fields.value();
  for (const rlp::Item& item : f) {
    if (item.is_list()) return invalid("legacy fields must be byte strings");
  }
  auto v = read_uint(f[6], "v");
  if (!v) return v.error();
  const auto v64 = v->to_u64();
  if (!v64 || (*v64 != 27 && *v64 != 28 && *v64 < 35)) return invalid("v is not 27, 28 or EIP-155");
  std::vector<rlp::Item> payload(f.begin(), f.begin() + 6);
  int recovery_id = 0;
  if (*v64 >= 35) {
    recovery_id = static_cast<int>((*v64 - 35) % 2);
    payload.push_back(rlp::Item::uint((*v64 - 35) / 2));
    payload.push_back(rlp::Item::uint(std::uint64_t{0}));
    payload.push_back(rlp::Item::uint(std::uint64_t{0}));
  } else {
    recovery_id = static_cast<int>(*v64 - 27);
  }
  auto sig = read_signature(f[7], f[8], recovery_id);
  if (!sig) return sig.error();
  return recover_address(keccak256(rlp::encode(rlp::Item::list(std::move(payload)))), sig.value());
}

common::Result<Address> recover_sender_eip1559(std::span<const std::uint8_t> raw) {
  if (raw.empty() || raw[0] != kEip1559Type) return invalid("not an EIP-1559 (type 2) transaction");
  auto fields = read_fields(raw.subspan(1), 12);
  if (!fields) return fields.error();
  std::vector<rlp::Item>& f = fields.value();
  auto parity = read_uint(f[9], "yParity");
  if (!parity) return parity.error();
  if (parity.value() > U256::from_u64(1)) return invalid("yParity is not 0 or 1");
  auto sig = read_signature(f[10], f[11], static_cast<int>(parity->to_u64().value()));
  if (!sig) return sig.error();
  std::vector<rlp::Item> payload(f.begin(), f.begin() + 9);
  return recover_address(typed_hash(kEip1559Type, rlp::Item::list(std::move(payload))), sig.value());
}

}  // namespace rally::critique::eth
