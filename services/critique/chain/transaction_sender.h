// Signs and sends one account's transactions and waits for their receipts.
//
// Nonces: the sender hands them out itself, so concurrent sends from many threads each get their own and
// none is skipped. Gas and fees are asked for first, outside the lock; signing and sending happen under one
// lock (sending to a local node takes about a millisecond), so transactions reach the node in nonce order
// and a failed send never leaves a gap behind a later one. After any failed send the next send asks the
// node again (eth_getTransactionCount "pending"): whatever the failure did or did not leave in the node's
// pool, the count is then right.
//
// Replicas that send from the same account pass a CrossProcessMutex shared by all of them: the lock then
// spans the processes, and each send asks the node for the pending count under it, since another replica
// may have used the next nonce. A nonce refused as used (a sender outside the mutex) is retried once.
//
// Gas: the limit is the node's estimate times a safety margin, unless the policy fixes it (as the
// original app did, 2,000,000); a call that would revert is refused at estimation with its reason, before
// any gas is spent. Fees are legacy (gasPrice) or EIP-1559 (maxFee = 2 x base fee + tip), per policy.
//
// Receipts: polled until the deadline. A mined transaction that reverted (receipt.status 0, possible with a
// fixed gas limit) is an error whose message carries the reason, obtained by replaying the call with
// eth_call at the block it was mined in.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "services/common/errors.h"
#include "services/common/pg_advisory_lock.h"
#include "services/critique/chain/eth_rpc_client.h"
#include "services/critique/eth/keys.h"

namespace rally::critique::chain {

struct GasPolicy {
  enum class Fees { kLegacy, kEip1559 };
  Fees fees = Fees::kEip1559;
  // Legacy only: the gas price; nullopt asks the node (eth_gasPrice).
  std::optional<U256> gas_price;
  // A fixed gas limit for every transaction; nullopt estimates each one.
  std::optional<std::uint64_t> gas_limit;
  // Estimate x (100 + margin_percent) / 100.
  std::uint64_t margin_percent = 25;
  // No transaction is sent with a limit above this (a runaway estimate, a prompt far too long).
  std::uint64_t max_gas_limit = 15'000'000;
};

struct SendSettings {
  GasPolicy gas;
  std::uint64_t chain_id = 696969;
  // How often a receipt is asked for while waiting.
  std::chrono::milliseconds receipt_poll{50};
};

class TransactionSender {
 public:
  using Clock = std::chrono::steady_clock;

  // `shared_send_lock` (may be null: this process alone sends from the account) must outlive the sender.
  TransactionSender(EthRpcClient& rpc, eth::PrivateKey key, SendSettings settings,
                    common::CrossProcessMutex* shared_send_lock = nullptr);

  const Address& address() const { return address_; }

  // Sends a transaction to `to` (nullopt: deploys `data` as a contract) and waits until it is mined or
  // `deadline` passes. Errors: kChainUnavailable / kApiTimeout from the node or for a missing receipt at
  // the deadline (the transaction may still be mined later), kUpstreamError for a refused or reverted
  // transaction (the revert reason in the message), kInvalidRequest when the gas needed exceeds
  // max_gas_limit.
  common::Result<Receipt> transact(const std::optional<Address>& to, const Bytes& data,
                                   Clock::time_point deadline);

  // Signs and sends without waiting for the receipt; returns the transaction hash.
  common::Result<Hash32> send(const std::optional<Address>& to, const Bytes& data);

  // Waits for the receipt of a sent transaction and checks its status.
  common::Result<Receipt> wait_for_receipt(const Hash32& hash, const std::optional<Address>& to,
                                           const Bytes& data, Clock::time_point deadline);

 private:
  common::Result<std::uint64_t> gas_limit_for(const std::optional<Address>& to, const Bytes& data);
  // The fees a transaction sent now should offer: the policy's fixed legacy price, or the node's.
  common::Result<FeeData> fees_for_next_send();
  Bytes sign(const std::optional<Address>& to, const Bytes& data, std::uint64_t gas, const FeeData& fees,
             const U256& nonce) const;
  // Under mutex_ (and the shared lock when there is one): picks the nonce and sends.
  common::Result<Hash32> send_next(const std::optional<Address>& to, const Bytes& data, std::uint64_t gas,
                                   const FeeData& fees);

  EthRpcClient& rpc_;
  const eth::PrivateKey key_;
  const Address address_;
  const SendSettings settings_;
  common::CrossProcessMutex* const shared_send_lock_;

  std::mutex mutex_;
  std::optional<U256> next_nonce_;  // nullopt: ask the node before the next send
};

}  // namespace rally::critique::chain
