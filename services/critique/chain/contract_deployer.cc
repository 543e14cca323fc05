#include "services/critique/chain/contract_deployer.h"

#include "services/critique/chain/contract_calls.h"

namespace rally::critique::chain {

using common::Error;
using common::ErrorCode;
using common::Result;

namespace {

Result<Address> created(Result<Receipt> receipt, std::string_view contract) {
  if (!receipt.ok()) return receipt.error();
  if (!receipt->contract_address) {
    return Error(ErrorCode::kUpstreamError, "Deploying " + std::string(contract) + " created no contract");
  }
  return *receipt->contract_address;
}

}  // namespace

Result<ContractAddresses> deploy_contracts(TransactionSender& deployer, const Address& worker,
                                           std::uint64_t chain_id,
                                           TransactionSender::Clock::time_point deadline) {
  Result<Receipt> oracle_receipt = deployer.transact(std::nullopt, oracle_creation_code(), deadline);
  if (!oracle_receipt.ok()) return oracle_receipt.error();
  const std::uint64_t block = oracle_receipt->block_number;
  Result<Address> oracle = created(std::move(oracle_receipt), "LlmOracle");
  if (!oracle.ok()) return oracle.error();
  Result<Address> critic =
      created(deployer.transact(std::nullopt, critic_creation_code(oracle.value()), deadline), "LlmCritic");
  if (!critic.ok()) return critic.error();
  Result<Receipt> whitelisted = deployer.transact(oracle.value(), encode_set_worker(worker, true), deadline);
  if (!whitelisted.ok()) return whitelisted.error();
  return ContractAddresses{
      .chain_id = chain_id, .oracle = oracle.value(), .critic = critic.value(), .deploy_block = block};
}

}  // namespace rally::critique::chain
