// Everything the critique service reads from configuration, validated once at start (docs/critique.md
// lists the keys). Keys are secrets: they are read from a variable or a file and never logged.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "services/common/config.h"
#include "services/critique/chain/contract_addresses.h"
#include "services/critique/chain/eth_rpc_client.h"
#include "services/critique/chain/transaction_sender.h"
#include "services/critique/eth/keys.h"

namespace rally::critique {

struct CritiqueSettings {
  // RALLY_CRITIQUE_RPC_URL, RALLY_CRITIQUE_RPC_TIMEOUT, RALLY_CRITIQUE_RPC_CA_FILE
  chain::EthRpcSettings rpc;
  // RALLY_CRITIQUE_CHAIN_ID (696969), and the gas policy: RALLY_CRITIQUE_GAS_FEES (eip1559 | legacy),
  // RALLY_CRITIQUE_GAS_PRICE (wei, legacy; unset asks the node), RALLY_CRITIQUE_GAS_LIMIT (unset
  // estimates), RALLY_CRITIQUE_GAS_MARGIN (percent over the estimate, 25), RALLY_CRITIQUE_MAX_GAS (15000000)
  chain::SendSettings send;
  // RALLY_CRITIQUE_CONTRACTS_FILE, or RALLY_CRITIQUE_ORACLE_ADDRESS + RALLY_CRITIQUE_CRITIC_ADDRESS
  // (+ RALLY_CRITIQUE_START_BLOCK)
  chain::ContractAddresses contracts;
  // RALLY_CRITIQUE_REQUESTER_KEY or RALLY_CRITIQUE_REQUESTER_KEY_FILE: signs sendMessage.
  std::optional<eth::PrivateKey> requester_key;
  // RALLY_CRITIQUE_WORKER (on): run the oracle worker in this process.
  bool run_worker = true;
  // RALLY_CRITIQUE_WORKER_KEY or RALLY_CRITIQUE_WORKER_KEY_FILE: signs addResponse (whitelisted).
  std::optional<eth::PrivateKey> worker_key;
  // The model that critiques. RALLY_CRITIQUE_MODEL
  std::string model = "gpt-4o";
  // The llm-proxy. RALLY_LLM_PROXY_ADDR
  common::HostPort llm_proxy{"127.0.0.1", 50051};
  // A critique's whole budget when the caller sets no shorter deadline. RALLY_CRITIQUE_TIMEOUT
  std::chrono::milliseconds timeout{60'000};
  // How often the chain is polled for answers and prompts. RALLY_CRITIQUE_POLL_INTERVAL
  std::chrono::milliseconds poll_interval{100};
  // RALLY_CRITIQUE_MAX_PROMPT_BYTES (64KiB)
  std::size_t max_prompt_bytes = 64 * 1024;
  // Prompts the worker handles at once. RALLY_CRITIQUE_WORKER_CONCURRENCY
  std::size_t worker_concurrency = 16;
  // Critiques in progress at once (each holds a thread while it waits on the chain); more are refused
  // with RESOURCE_EXHAUSTED. RALLY_CRITIQUE_THREADS (64), RALLY_CRITIQUE_QUEUE (256)
  std::size_t threads = 64;
  std::size_t queue = 256;

  static CritiqueSettings from(const common::ConfigSource& config);
};

// A key from `key` (hex) or `file_key` (a file holding the hex); nullopt when neither is set. Throws
// ConfigError naming the key, without its value, when it is malformed.
std::optional<eth::PrivateKey> read_private_key(const common::ConfigSource& config, std::string_view key,
                                                std::string_view file_key);

}  // namespace rally::critique
