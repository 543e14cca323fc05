#include "services/critique/chain/transaction_sender.h"

#include <thread>
#include <utility>

#include "services/critique/eth/transaction.h"

namespace rally::critique::chain {

using common::Error;
using common::ErrorCode;
using common::Result;

namespace {

// How nodes (geth, anvil, reth) word a nonce that is already used or taken by a pending transaction.
bool is_nonce_conflict(const Error& error) {
  for (std::string_view phrase : {"nonce too low", "already known", "replacement transaction underpriced",
                                  "nonce has already been used", "NonceTooLow"}) {
    if (error.message.find(phrase) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TransactionSender::TransactionSender(EthRpcClient& rpc, eth::PrivateKey key, SendSettings settings,
                                     common::CrossProcessMutex* shared_send_lock)
    : rpc_(rpc),
      key_(std::move(key)),
      address_(key_.address()),
      settings_(std::move(settings)),
      shared_send_lock_(shared_send_lock) {}

Result<std::uint64_t> TransactionSender::gas_limit_for(const std::optional<Address>& to, const Bytes& data) {
  const GasPolicy& policy = settings_.gas;
  if (policy.gas_limit) return *policy.gas_limit;
  auto estimate = rpc_.estimate_gas(CallRequest{.from = address_, .to = to, .data = data});
  if (!estimate.ok()) return estimate.error();
  const U256 limit = estimate->mul_div(100 + policy.margin_percent, 100);
  const std::optional<std::uint64_t> small = limit.to_u64();
  if (!small || *small > policy.max_gas_limit) {
    return Error(ErrorCode::kInvalidRequest, "The transaction needs " + limit.to_decimal() +
                                                 " gas, more than the limit of " +
                                                 std::to_string(policy.max_gas_limit));
  }
  return *small;
}

Result<FeeData> TransactionSender::fees_for_next_send() {
  const GasPolicy& policy = settings_.gas;
  if (policy.fees == GasPolicy::Fees::kLegacy && policy.gas_price)
    return FeeData{.gas_price = *policy.gas_price};
  return rpc_.fee_data();
}

Bytes TransactionSender::sign(const std::optional<Address>& to, const Bytes& data, std::uint64_t gas,
                              const FeeData& fees, const U256& nonce) const {
  if (settings_.gas.fees == GasPolicy::Fees::kLegacy) {
    return eth::sign_legacy(eth::LegacyTransaction{.nonce = nonce,
                                                   .gas_price = fees.gas_price,
                                                   .gas_limit = U256::from_u64(gas),
                                                   .to = to,
                                                   .value = U256(),
                                                   .data = data,
                                                   .chain_id = settings_.chain_id},
                            key_);
  }
  // Twice the base fee keeps the transaction valid through several blocks of rising fees.
  const U256 base = fees.base_fee.value_or(fees.gas_price);
  const U256 max_fee = base * U256::from_u64(2) + fees.max_priority_fee;
  return eth::sign_eip1559(eth::Eip1559Transaction{.chain_id = settings_.chain_id,
                                                   .nonce = nonce,
                                                   .max_priority_fee_per_gas = fees.max_priority_fee,
                                                   .max_fee_per_gas = max_fee,
                                                   .gas_limit = U256::from_u64(gas),
                                                   .to = to,
                                                   .value = U256(),
                                                   .data = data},
                           key_);
}

Result<Hash32> TransactionSender::send(const std::optional<Address>& to, const Bytes& data) {
  // Gas and fees are asked for before taking the lock: they are the slow part and need no nonce.
  auto gas = gas_limit_for(to, data);
  if (!gas.ok()) return gas.error();
  auto fees = fees_for_next_send();
  if (!fees.ok()) return fees.error();

  // The in-process lock first: this process's threads queue here, not on the shared lock's connections.
  std::lock_guard lock(mutex_);
  if (shared_send_lock_ == nullptr) return send_next(to, data, gas.value(), fees.value());
  std::optional<Result<Hash32>> sent;
  const std::optional<Error> unlocked = shared_send_lock_->run_exclusive([&] {
    next_nonce_.reset();  // another replica may have sent since this one did
    sent.emplace(send_next(to, data, gas.value(), fees.value()));
  });
  if (unlocked) return *unlocked;
  return std::move(*sent);
}

Result<Hash32> TransactionSender::send_next(const std::optional<Address>& to, const Bytes& data,
                                            std::uint64_t gas, const FeeData& fees) {
  // A nonce refused as used (another process sent from this account) is retried once with the node's count.
  for (int attempt = 1;; ++attempt) {
    if (!next_nonce_) {
      auto nonce = rpc_.pending_nonce(address_);
      if (!nonce.ok()) return nonce.error();
      next_nonce_ = nonce.value();
    }
    auto hash = rpc_.send_raw_transaction(sign(to, data, gas, fees, *next_nonce_));
    if (hash.ok()) {
      *next_nonce_ = *next_nonce_ + U256::from_u64(1);
      return hash.value();
    }
    next_nonce_.reset();  // resynchronise: the node's count is the truth after any failure
    if (attempt >= 2 || !is_nonce_conflict(hash.error())) return hash.error();
  }
}

Result<Receipt> TransactionSender::wait_for_receipt(const Hash32& hash, const std::optional<Address>& to,
                                                    const Bytes& data, Clock::time_point deadline) {
  while (true) {
    auto receipt = rpc_.receipt(hash);
    if (!receipt.ok()) return receipt.error();
    if (receipt.value()) {
      Receipt mined = std::move(*receipt.value());
      if (mined.succeeded) return mined;
      // Replayed where it failed, the call reverts again and the node tells why.
      auto replay = rpc_.call(CallRequest{.from = address_, .to = to, .data = data}, mined.block_number);
      const std::string reason = replay.ok() ? "no reason given" : replay.error().message;
      return Error(ErrorCode::kUpstreamError,
                   "Transaction " + eth::to_hex(hash) + " reverted in block " +
                       std::to_string(mined.block_number) + ": " + reason,
                   {{"tx_hash", eth::to_hex(hash)}});
    }
    if (Clock::now() + settings_.receipt_poll > deadline) {
      return Error(ErrorCode::kApiTimeout, "Transaction " + eth::to_hex(hash) + " was not mined in time",
                   {{"tx_hash", eth::to_hex(hash)}});
    }
    std::this_thread::sleep_for(settings_.receipt_poll);
  }
}

Result<Receipt> TransactionSender::transact(const std::optional<Address>& to, const Bytes& data,
                                            Clock::time_point deadline) {
  auto hash = send(to, data);
  if (!hash.ok()) return hash.error();
  return wait_for_receipt(hash.value(), to, data, deadline);
}

}  // namespace rally::critique::chain
