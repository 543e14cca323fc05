// Signed Ethereum transactions as eth_sendRawTransaction takes them: legacy with EIP-155 replay protection
// (what the original oracle flow sent) and EIP-1559 (type 2) with an empty access list. Building and signing
// are pure: the caller fetches the nonce, fees and chain id from the node and passes them in.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "services/common/errors.h"
#include "services/critique/eth/address.h"
#include "services/critique/eth/hex.h"
#include "services/critique/eth/keccak.h"
#include "services/critique/eth/keys.h"
#include "services/critique/eth/u256.h"

namespace rally::critique::eth {

struct LegacyTransaction {
  U256 nonce;
  U256 gas_price;
  U256 gas_limit;
  std::optional<Address> to;  // nullopt = contract creation
  U256 value;
  Bytes data;
  // EIP-155 replay protection; 0 signs an unprotected pre-EIP-155 transaction (v = 27 + recovery id), which
  // most nodes refuse by default.
  std::uint64_t chain_id = 1;
};

struct Eip1559Transaction {
  std::uint64_t chain_id = 1;
  U256 nonce;
  U256 max_priority_fee_per_gas;
  U256 max_fee_per_gas;
  U256 gas_limit;
  std::optional<Address> to;  // nullopt = contract creation
  U256 value;
  Bytes data;
};

// The digest the sender signs: keccak256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])) (the
// last three omitted when chain_id is 0).
Hash32 signing_hash(const LegacyTransaction& tx);
// keccak256(0x02 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value, data, []])).
Hash32 signing_hash(const Eip1559Transaction& tx);

// rlp([nonce, gasPrice, gas, to, value, data, v, r, s]) with v = chain_id * 2 + 35 + recovery id.
Bytes sign_legacy(const LegacyTransaction& tx, const PrivateKey& key);
// 0x02 || rlp([chainId, nonce, maxPriorityFee, maxFee, gas, to, value, data, [], yParity, r, s]).
Bytes sign_eip1559(const Eip1559Transaction& tx, const PrivateKey& key);

// The transaction hash nodes report (eth_sendRawTransaction's result): keccak256 of the raw bytes.
Hash32 transaction_hash(std::span<const std::uint8_t> raw);

// The signer of a raw signed transaction, recomputed from its fields: checks what was signed before it is
// sent. Malformed input (not the expected RLP shape, non-canonical integers, bad v or signature) is
// kInvalidRequest.
common::Result<Address> recover_sender_legacy(std::span<const std::uint8_t> raw);
common::Result<Address> recover_sender_eip1559(std::span<const std::uint8_t> raw);

}  // namespace rally::critique::eth
