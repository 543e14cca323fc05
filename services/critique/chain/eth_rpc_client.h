// Ethereum JSON-RPC over HTTP(S), on the suite's Beast HTTP client (keep-alive pool, TLS with certificate
// verification, timeouts). Calls block the calling thread until the node answers: the critique service
// makes them from its own worker threads, never from gRPC's.
//
// Errors: a node that cannot be reached (refused, reset, TLS, HTTP status other than 200) is
// kChainUnavailable; a call that outlives its timeout is kApiTimeout; a JSON-RPC error object is
// kUpstreamError with the node's message, and its "data" (a revert's encoded reason) in the details as
// "data"; an answer that is not what the method returns is kUpstreamError.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"
#include "services/critique/eth/address.h"
#include "services/critique/eth/hex.h"
#include "services/critique/eth/keccak.h"
#include "services/critique/eth/u256.h"

namespace rally::critique::chain {

using eth::Address;
using eth::Bytes;
using eth::Hash32;
using eth::U256;

struct EthRpcSettings {
  std::string url = "http://127.0.0.1:8545";
  // Per call, connect included.
  std::chrono::milliseconds timeout{10'000};
  // Connection attempts give up after this, so a node that is down is reported quickly.
  std::chrono::milliseconds connect_timeout{2'000};
  // PEM CA file trusted in addition to the system store (a private node's certificate).
  std::string extra_ca_file;
};

// A message call (eth_call, eth_estimateGas).
struct CallRequest {
  std::optional<Address> from;
  std::optional<Address> to;  // nullopt: contract creation
  Bytes data;
  U256 value;
};

struct LogEntry {
  Address address;
  std::vector<Hash32> topics;
  Bytes data;
  std::uint64_t block_number = 0;
  Hash32 transaction_hash{};
  std::uint64_t log_index = 0;
};

struct Receipt {
  Hash32 transaction_hash{};
  bool succeeded = false;  // receipt.status == 1
  std::uint64_t block_number = 0;
  std::uint64_t gas_used = 0;
  std::optional<Address> contract_address;  // for a contract creation
  std::vector<LogEntry> logs;
};

// eth_getLogs: one contract's events with topic0 `event_topic` (and topic1 when given) in a block range.
struct LogFilter {
  Address address;
  Hash32 event_topic{};
  std::optional<Hash32> topic1;
  std::uint64_t from_block = 0;
  std::optional<std::uint64_t> to_block;  // nullopt: "latest"
};

struct FeeData {
  U256 gas_price;                // eth_gasPrice
  std::optional<U256> base_fee;  // the latest block's baseFeePerGas (absent before London)
  U256 max_priority_fee = U256::from_u64(1'000'000'000);  // eth_maxPriorityFeePerGas, 1 gwei when unknown
};

class EthRpcClient {
 public:
  // Throws std::invalid_argument for a URL that is not http(s).
  explicit EthRpcClient(EthRpcSettings settings);
  ~EthRpcClient();
  EthRpcClient(const EthRpcClient&) = delete;
  EthRpcClient& operator=(const EthRpcClient&) = delete;

  const std::string& url() const;

  common::Result<std::uint64_t> chain_id();
  common::Result<std::uint64_t> block_number();
  // eth_getTransactionCount at "pending": the next nonce, counting transactions in the node's pool.
  common::Result<U256> pending_nonce(const Address& account);
  common::Result<FeeData> fee_data();
  common::Result<U256> estimate_gas(const CallRequest& call);
  // eth_call at `block` ("latest" when nullopt). A revert is kUpstreamError with the reason decoded into
  // the message and the raw data in the details.
  common::Result<Bytes> call(const CallRequest& call, std::optional<std::uint64_t> block = std::nullopt);
  common::Result<Hash32> send_raw_transaction(const Bytes& raw);
  // nullopt while the transaction is not mined.
  common::Result<std::optional<Receipt>> receipt(const Hash32& transaction_hash);
  common::Result<std::vector<LogEntry>> logs(const LogFilter& filter);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rally::critique::chain
