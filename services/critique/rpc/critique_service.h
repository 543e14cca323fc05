// The rally.v1.Critique gRPC service: Criticize runs a critique (engine/critique_engine.h) on a thread of
// its own, since it waits seconds on the chain, and finishes the call from there. The same process runs
// the oracle worker (engine/oracle_worker.h) unless RALLY_CRITIQUE_WORKER is off.
#pragma once

#include <memory>

#include "rally/v1/critique.grpc.pb.h"

namespace rally::common {
class BlockingExecutor;
struct ServiceContext;
}  // namespace rally::common

namespace rally::critique {

class CritiqueEngine;

class CritiqueService final : public v1::Critique::CallbackService {
 public:
  // Both must outlive the service.
  CritiqueService(CritiqueEngine& engine, common::BlockingExecutor& executor,
                  std::chrono::milliseconds timeout);

  grpc::ServerUnaryReactor* Criticize(grpc::CallbackServerContext* context,
                                      const v1::CriticizeRequest* request,
                                      v1::CriticizeResponse* response) override;

 private:
  CritiqueEngine& engine_;
  common::BlockingExecutor& executor_;
  const std::chrono::milliseconds timeout_;
};

// Reads the settings, connects to the chain and the llm-proxy, and builds the service with its engine and
// (started once migrations ran) its oracle worker; all kept alive by `context`. Throws ConfigError.
std::unique_ptr<grpc::Service> make_critique_service(common::ServiceContext& context);

}  // namespace rally::critique
