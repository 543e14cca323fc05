// rally-chain-deploy: deploys the critique contracts (LlmOracle, LlmCritic), whitelists the oracle worker
// and writes the addresses where rally-critique reads them (RALLY_CRITIQUE_CONTRACTS_FILE). `./rally up`
// runs it against its local anvil; an operator runs it once against a real network.
//
// Settings (environment or --config file): RALLY_CRITIQUE_RPC_URL, RALLY_CRITIQUE_CHAIN_ID, the gas policy
// keys of rally-critique, RALLY_CHAIN_DEPLOYER_KEY or RALLY_CHAIN_DEPLOYER_KEY_FILE (owns the oracle), the
// worker as RALLY_CHAIN_WORKER_ADDRESS or the key the worker signs with (RALLY_CRITIQUE_WORKER_KEY[_FILE]),
// and RALLY_CRITIQUE_CONTRACTS_FILE, the file to write. Exit codes: 0 deployed, 1 the chain refused or
// failed, 2 bad configuration.
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include "services/common/config.h"
#include "services/common/logging.h"
#include "services/critique/chain/contract_addresses.h"
#include "services/critique/chain/contract_deployer.h"
#include "services/critique/critique_settings.h"

int main(int argc, char** argv) {
  using namespace rally;
  using namespace rally::critique;
  constexpr int kExitFailed = 1;
  constexpr int kExitConfig = 2;

  chain::EthRpcSettings rpc_settings;
  chain::SendSettings send;
  std::optional<eth::PrivateKey> deployer_key;
  chain::Address worker;
  std::string output;
  try {
    const auto config = common::ConfigSource::from_process(argc, argv, environ);
    common::init_logging("rally-chain-deploy", common::LogSettings::from(config));
    rpc_settings.url = config.get_nonempty_string("RALLY_CRITIQUE_RPC_URL", rpc_settings.url);
    send.chain_id =
        static_cast<std::uint64_t>(config.get_int("RALLY_CRITIQUE_CHAIN_ID", 696969, 1, INT64_MAX));
    send.gas.fees = config.get_choice("RALLY_CRITIQUE_GAS_FEES", "eip1559", {"eip1559", "legacy"}) == "legacy"
                        ? chain::GasPolicy::Fees::kLegacy
                        : chain::GasPolicy::Fees::kEip1559;
    deployer_key = read_private_key(config, "RALLY_CHAIN_DEPLOYER_KEY", "RALLY_CHAIN_DEPLOYER_KEY_FILE");
    if (!deployer_key) throw common::ConfigError("RALLY_CHAIN_DEPLOYER_KEY", "is required (or _FILE)");
    if (const std::string address = config.get_string("RALLY_CHAIN_WORKER_ADDRESS", ""); !address.empty()) {
      auto parsed = chain::Address::parse(address);
      if (!parsed.ok()) throw common::ConfigError("RALLY_CHAIN_WORKER_ADDRESS", parsed.error().message);
      worker = parsed.value();
    } else {
      auto worker_key =
          read_private_key(config, "RALLY_CRITIQUE_WORKER_KEY", "RALLY_CRITIQUE_WORKER_KEY_FILE");
      if (!worker_key)
        throw common::ConfigError("RALLY_CHAIN_WORKER_ADDRESS",
                                  "or RALLY_CRITIQUE_WORKER_KEY[_FILE] is required");
      worker = worker_key->address();
    }
    output = config.get_nonempty_string("RALLY_CRITIQUE_CONTRACTS_FILE", "");
    // Refused before deploying: contracts whose addresses cannot be written are lost gas.
    if (output.empty()) throw common::ConfigError("RALLY_CRITIQUE_CONTRACTS_FILE", "is required");
  } catch (const common::ConfigError& e) {
    std::cerr << "rally-chain-deploy: invalid configuration: " << e.what() << '\n';
    return kExitConfig;
  }

  chain::EthRpcClient rpc(rpc_settings);
  common::Result<std::uint64_t> chain_id = rpc.chain_id();
  if (!chain_id.ok()) {
    std::cerr << "rally-chain-deploy: " << chain_id.error().message << '\n';
    return kExitFailed;
  }
  if (chain_id.value() != send.chain_id) {
    std::cerr << "rally-chain-deploy: the node at " << rpc_settings.url << " is chain " << chain_id.value()
              << ", not RALLY_CRITIQUE_CHAIN_ID " << send.chain_id << '\n';
    return kExitConfig;
  }
  chain::TransactionSender deployer(rpc, std::move(*deployer_key), send);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  common::Result<chain::ContractAddresses> deployed =
      chain::deploy_contracts(deployer, worker, send.chain_id, deadline);
  if (!deployed.ok()) {
    std::cerr << "rally-chain-deploy: " << deployed.error().message << '\n';
    return kExitFailed;
  }
  std::ofstream file(output, std::ios::trunc);
  file << chain::contract_addresses_json(deployed.value(), worker);
  if (!file.flush()) {
    std::cerr << "rally-chain-deploy: cannot write " << output << '\n';
    return kExitFailed;
  }
  std::cout << "oracle " << deployed->oracle.checksummed() << "\ncritic " << deployed->critic.checksummed()
            << "\nworker " << worker.checksummed() << "\nwritten to " << output << '\n';
  return 0;
}
