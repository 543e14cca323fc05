#include "services/critique/rpc/critique_service.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "services/common/blocking_executor.h"
#include "services/common/errors.h"
#include "services/common/grpc_channel.h"
#include "services/common/grpc_status.h"
#include "services/common/pg_advisory_lock.h"
#include "services/common/service_main.h"
#include "services/critique/critique_settings.h"
#include "services/critique/engine/answer_watcher.h"
#include "services/critique/engine/critique_engine.h"
#include "services/critique/engine/oracle_worker.h"
#include "services/critique/rpc/llm_proxy_critic.h"
#include "services/critique/storage/pg_critique_store.h"

namespace rally::critique {
namespace {

using common::Error;
using common::ErrorCode;

// How long a send waits for another replica's send from the same account (each takes milliseconds).
constexpr std::chrono::seconds kSendLockWait{10};

// Replicas sending from one account share their nonces, so they take turns: a PostgreSQL advisory lock
// per chain and account.
common::PgAdvisoryMutex& own_send_lock(common::ServiceContext& context, std::uint64_t chain_id,
                                       const eth::PrivateKey& key) {
  return context.own(std::make_unique<common::PgAdvisoryMutex>(
      context.postgres, "critique.sender/" + std::to_string(chain_id) + "/" + key.address().lower_hex(),
      kSendLockWait));
}

void set_duration(google::protobuf::Duration& duration, std::chrono::microseconds time) {
  duration.set_seconds(time.count() / 1'000'000);
  duration.set_nanos(static_cast<std::int32_t>((time.count() % 1'000'000) * 1000));
}

}  // namespace

CritiqueService::CritiqueService(CritiqueEngine& engine, common::BlockingExecutor& executor,
                                 std::chrono::milliseconds timeout)
    : engine_(engine), executor_(executor), timeout_(timeout) {}

grpc::ServerUnaryReactor* CritiqueService::Criticize(grpc::CallbackServerContext* context,
                                                     const v1::CriticizeRequest* request,
                                                     v1::CriticizeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The caller's deadline when it is shorter than the service's own budget.
  const auto now_system = std::chrono::system_clock::now();
  const auto budget = std::min<std::chrono::system_clock::duration>(
      timeout_, std::max<std::chrono::system_clock::duration>(context->deadline() - now_system, {}));
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const bool queued = executor_.post([this, context, reactor, request, response, deadline] {
    // A browser that closed the connection cancels the call: its thread stops waiting for the answer.
    common::Result<Critique> critique =
        engine_.criticize(request->prompt(), deadline, [context] { return context->IsCancelled(); });
    if (!critique.ok()) return reactor->Finish(common::to_grpc_status(critique.error()));
    response->set_score(critique->score);
    response->set_description(critique->description);
    response->set_tx_hash(critique->tx_hash);
    response->set_run_id(critique->run_id);
    response->set_block_number(critique->answer_block);
    set_duration(*response->mutable_latency(), critique->latency);
    set_duration(*response->mutable_chain_time(), critique->chain_time);
    response->set_simulated(critique->simulated);
    reactor->Finish(grpc::Status::OK);
  });
  if (!queued) {
    reactor->Finish(common::to_grpc_status(Error(ErrorCode::kServiceUnavailable,
                                                 "Too many critiques in progress; retry shortly",
                                                 {{"reason", "queue_full"}})));
  }
  return reactor;
}

std::unique_ptr<grpc::Service> make_critique_service(common::ServiceContext& context) {
  CritiqueSettings settings = CritiqueSettings::from(context.config);
  // Owned in dependency order: the context destroys the last owned first, so the executor and the worker
  // stop before the chain clients and the store they use.
  chain::EthRpcClient& rpc = context.own(std::make_unique<chain::EthRpcClient>(settings.rpc));
  CritiqueStore& store =
      context.own(std::make_unique<PgCritiqueStore>(context.postgres, common::pg::StoreSettings{}));
  common::PgAdvisoryMutex& requester_lock =
      own_send_lock(context, settings.send.chain_id, *settings.requester_key);
  chain::TransactionSender& requester = context.own(std::make_unique<chain::TransactionSender>(
      rpc, std::move(*settings.requester_key), settings.send, &requester_lock));
  AnswerWatcher& answers =
      context.own(std::make_unique<AnswerWatcher>(rpc, settings.contracts.critic, settings.poll_interval));
  CritiqueEngine& engine = context.own(std::make_unique<CritiqueEngine>(
      requester, answers, store,
      CritiqueEngineSettings{.critic = settings.contracts.critic,
                             .max_prompt_bytes = settings.max_prompt_bytes}));
  spdlog::info("critique: chain {} at {}, critic {}, oracle {}, requester {}", settings.send.chain_id,
               settings.rpc.url, settings.contracts.critic.checksummed(),
               settings.contracts.oracle.checksummed(), requester.address().checksummed());

  if (settings.run_worker) {
    auto channel = common::make_service_channel(settings.llm_proxy);
    CriticLlm& llm = context.own(std::make_unique<LlmProxyCritic>(channel, settings.model));
    common::PgAdvisoryMutex& worker_lock =
        own_send_lock(context, settings.send.chain_id, *settings.worker_key);
    chain::TransactionSender& worker_sender = context.own(std::make_unique<chain::TransactionSender>(
        rpc, std::move(*settings.worker_key), settings.send, &worker_lock));
    // One worker per oracle answers among the replicas sharing the database.
    common::PgAdvisoryLock& lease = context.own(std::make_unique<common::PgAdvisoryLock>(
        context.postgres, "critique.oracle-worker/" + settings.contracts.oracle.lower_hex()));
    OracleWorker& worker = context.own(
        std::make_unique<OracleWorker>(rpc, worker_sender, llm, store,
                                       OracleWorkerSettings{.oracle = settings.contracts.oracle,
                                                            .chain_id = settings.send.chain_id,
                                                            .start_block = settings.contracts.deploy_block,
                                                            .poll_interval = settings.poll_interval,
                                                            .concurrency = settings.worker_concurrency,
                                                            .llm_timeout = settings.timeout},
                                       &lease));
    // The worker reads its cursor from the service's tables, so it starts once they exist.
    context.on_migrated.push_back([&worker] { worker.start(); });
    context.on_drain.push_back([&worker] { worker.stop(); });
  }
  common::BlockingExecutor& executor =
      context.own(std::make_unique<common::BlockingExecutor>(settings.threads, settings.queue));
  return std::make_unique<CritiqueService>(engine, executor, settings.timeout);
}

}  // namespace rally::critique
