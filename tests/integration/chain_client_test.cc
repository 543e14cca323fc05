// The critique service's chain client against a real anvil node: deployment, signed sends from many
// threads, nonce resynchronisation, revert reasons, receipts and logs.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "services/common/pg_advisory_lock.h"
#include "services/common/pg_pool.h"
#include "services/critique/chain/contract_calls.h"
#include "services/critique/chain/contract_deployer.h"
#include "services/critique/chain/eth_rpc_client.h"
#include "services/critique/chain/transaction_sender.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"

namespace rally::testing {
namespace {

using namespace std::chrono_literals;
namespace chain = critique::chain;
namespace eth = critique::eth;
using Clock = std::chrono::steady_clock;

eth::PrivateKey key(std::string_view hex) {
  return eth::PrivateKey::from_hex(hex).value();
}

struct Chain {
  AnvilServer anvil{free_port()};
  std::unique_ptr<chain::EthRpcClient> rpc;
  Chain() {
    anvil.start();
    rpc = std::make_unique<chain::EthRpcClient>(chain::EthRpcSettings{.url = anvil.rpc_url()});
  }
};

chain::SendSettings settings(chain::GasPolicy gas = {}) {
  return chain::SendSettings{.gas = gas, .chain_id = AnvilServer::kChainId, .receipt_poll = 10ms};
}

// Sends `count` prompts to the critic at once, round robin over `senders`, and returns the run ids their
// receipts report (every send must succeed).
std::set<std::string> send_prompts_at_once(const std::vector<chain::TransactionSender*>& senders, int count,
                                           const chain::Address& critic) {
  std::vector<std::future<common::Result<chain::Receipt>>> sends;
  for (int i = 0; i < count; ++i) {
    chain::TransactionSender& sender = *senders[static_cast<std::size_t>(i) % senders.size()];
    sends.push_back(std::async(std::launch::async, [&sender, &critic, i] {
      return sender.transact(critic, chain::encode_send_message("prompt " + std::to_string(i)),
                             Clock::now() + 20s);
    }));
  }
  std::set<std::string> run_ids;
  for (auto& send : sends) {
    auto receipt = send.get();
    INFO((receipt.ok() ? "" : receipt.error().message));
    REQUIRE(receipt.ok());
    run_ids.insert(chain::find_run_started(receipt.value(), critic)->run_id.to_decimal());
  }
  return run_ids;
}

TEST_CASE("the chain client deploys the contracts and reads what they emit", "[integration]") {
  Chain node;
  REQUIRE(node.rpc->chain_id().value() == AnvilServer::kChainId);
  chain::TransactionSender deployer(*node.rpc, key(AnvilServer::kDeployerKey), settings());
  CHECK(deployer.address().checksummed() == AnvilServer::kDeployerAddress);
  const eth::PrivateKey worker_key = key(AnvilServer::kWorkerKey);
  auto deployed =
      chain::deploy_contracts(deployer, worker_key.address(), AnvilServer::kChainId, Clock::now() + 30s);
  INFO((deployed.ok() ? "" : deployed.error().message));
  REQUIRE(deployed.ok());
  // anvil's first deployment from account 0 lands at a well-known address.
  CHECK(deployed->oracle.checksummed() == "0x5FbDB2315678afecb367f032d93F642f64180aa3");

  auto receipt =
      deployer.transact(deployed->critic, chain::encode_send_message("hello chain"), Clock::now() + 10s);
  REQUIRE(receipt.ok());
  auto run = chain::find_run_started(receipt.value(), deployed->critic);
  REQUIRE(run.ok());
  CHECK(run->run_id.to_decimal() == "1");
  CHECK(run->requester == deployer.address());
  CHECK(run->prompt_hash == eth::keccak256("hello chain"));

  auto prompts = node.rpc->logs({.address = deployed->oracle, .event_topic = chain::prompt_added_topic()});
  REQUIRE(prompts.ok());
  REQUIRE(prompts->size() == 1);
  auto prompt = chain::decode_prompt_added(prompts->front());
  REQUIRE(prompt.ok());
  CHECK(prompt->prompt == "hello chain");
  CHECK(prompt->callback_id == run->run_id);
  CHECK(prompt->sender == deployed->critic);

  chain::TransactionSender worker(*node.rpc, key(AnvilServer::kWorkerKey), settings());
  const eth::Bytes answer =
      chain::encode_add_response(prompt->prompt_id, prompt->callback_id, R"({"score":7})", "");

  SECTION("only a whitelisted worker may answer, and only once; the reason comes back") {
    chain::TransactionSender stranger(*node.rpc, key(AnvilServer::kDeployerKey), settings());
    auto refused = stranger.transact(deployed->oracle, answer, Clock::now() + 10s);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("not a worker"));

    REQUIRE(worker.transact(deployed->oracle, answer, Clock::now() + 10s).ok());
    auto answered = node.rpc->call({.to = deployed->critic, .data = chain::encode_get_answer(run->run_id)});
    REQUIRE(answered.ok());
    auto stored = chain::decode_get_answer_result(run->run_id, answered.value());
    REQUIRE(stored.ok());
    REQUIRE(stored.value().has_value());
    CHECK(stored.value()->response == R"({"score":7})");

    // Refused at estimation, before any gas is spent ...
    auto again = worker.transact(deployed->oracle, answer, Clock::now() + 10s);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == common::ErrorCode::kUpstreamError);
    CHECK_THAT(again.error().message, Catch::Contains("already answered"));
    // ... and with a fixed gas limit mined as a failed transaction, whose reason is replayed with eth_call.
    chain::TransactionSender fixed_gas(*node.rpc, key(AnvilServer::kWorkerKey),
                                       settings(chain::GasPolicy{.gas_limit = 2'000'000}));
    auto reverted = fixed_gas.transact(deployed->oracle, answer, Clock::now() + 10s);
    REQUIRE_FALSE(reverted.ok());
    CHECK_THAT(reverted.error().message, Catch::Contains("reverted in block"));
    CHECK_THAT(reverted.error().message, Catch::Contains("already answered"));
  }

  SECTION("legacy (EIP-155) transactions are accepted too") {
    chain::TransactionSender legacy(*node.rpc, key(AnvilServer::kWorkerKey),
                                    settings(chain::GasPolicy{.fees = chain::GasPolicy::Fees::kLegacy}));
    auto receipt_legacy = legacy.transact(deployed->oracle, answer, Clock::now() + 10s);
    INFO((receipt_legacy.ok() ? "" : receipt_legacy.error().message));
    CHECK(receipt_legacy.ok());
  }
}

TEST_CASE("concurrent sends get distinct nonces and a used nonce is resynchronised", "[integration]") {
  Chain node;
  chain::TransactionSender deployer(*node.rpc, key(AnvilServer::kDeployerKey), settings());
  auto deployed = chain::deploy_contracts(deployer, key(AnvilServer::kWorkerKey).address(),
                                          AnvilServer::kChainId, Clock::now() + 30s);
  REQUIRE(deployed.ok());

  CHECK(send_prompts_at_once({&deployer}, 12, deployed->critic).size() == 12);

  // Another sender on the same account uses the next nonce behind the first one's back.
  chain::TransactionSender other(*node.rpc, key(AnvilServer::kDeployerKey), settings());
  REQUIRE(other.transact(deployed->critic, chain::encode_send_message("elsewhere"), Clock::now() + 10s).ok());
  auto resynced =
      deployer.transact(deployed->critic, chain::encode_send_message("after"), Clock::now() + 10s);
  INFO((resynced.ok() ? "" : resynced.error().message));
  CHECK(resynced.ok());
}

TEST_CASE("replicas sending from one account take turns through a shared lock", "[integration]") {
  Chain node;
  chain::TransactionSender deployer(*node.rpc, key(AnvilServer::kDeployerKey), settings());
  auto deployed = chain::deploy_contracts(deployer, key(AnvilServer::kWorkerKey).address(),
                                          AnvilServer::kChainId, Clock::now() + 30s);
  REQUIRE(deployed.ok());

  // Two processes' worth: each its own pool, lock and sender, all on one account (the deployer's, which
  // the stack also sends prompts from).
  ScratchDatabase database;
  common::PostgresSettings postgres;
  postgres.url = database.url();
  postgres.pool_size = 2;
  common::PgPool first_pool(postgres);
  common::PgPool second_pool(postgres);
  common::PgAdvisoryMutex first_lock(first_pool, "requester", 10s);
  common::PgAdvisoryMutex second_lock(second_pool, "requester", 10s);
  chain::TransactionSender first(*node.rpc, key(AnvilServer::kDeployerKey), settings(), &first_lock);
  chain::TransactionSender second(*node.rpc, key(AnvilServer::kDeployerKey), settings(), &second_lock);

  const auto sent_before = node.rpc->pending_nonce(first.address());
  REQUIRE(sent_before.ok());
  // Without the shared lock each would hand out nonces the other had used, and most sends would fail.
  CHECK(send_prompts_at_once({&first, &second}, 16, deployed->critic).size() == 16);
  // Sixteen sends used sixteen nonces: none was skipped or refused.
  auto sent_after = node.rpc->pending_nonce(first.address());
  REQUIRE(sent_after.ok());
  CHECK(sent_after.value() == sent_before.value() + chain::U256::from_u64(16));
}

TEST_CASE("an unreachable node is CHAIN_UNAVAILABLE", "[integration]") {
  chain::EthRpcClient rpc({.url = "http://127.0.0.1:" + std::to_string(free_port())});
  auto number = rpc.block_number();
  REQUIRE_FALSE(number.ok());
  CHECK(number.error().code == common::ErrorCode::kChainUnavailable);
}

}  // namespace
}  // namespace rally::testing
