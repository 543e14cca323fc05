// Deploys the oracle and the critic contract and whitelists the worker: what `./rally up`, the tests and
// an operator setting up a real network run once (through rally-chain-deploy).
#pragma once

#include <chrono>

#include "services/common/errors.h"
#include "services/critique/chain/contract_addresses.h"
#include "services/critique/chain/transaction_sender.h"

namespace rally::critique::chain {

// Sends three transactions from `deployer` (oracle creation, critic creation, setWorker) and waits for
// each. The deployer owns the oracle.
common::Result<ContractAddresses> deploy_contracts(TransactionSender& deployer, const Address& worker,
                                                   std::uint64_t chain_id,
                                                   TransactionSender::Clock::time_point deadline);

}  // namespace rally::critique::chain
