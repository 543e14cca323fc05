// The rally.v1.LlmProxy gRPC service: proto in, CompletionEngine and usage statistics, proto out. Streams
// use the callback API with one write in flight; text that arrives while a write is outstanding is joined
// into the next message, so a slow reader slows nothing upstream and memory stays bounded by one reply.
#pragma once

#include <chrono>
#include <memory>

#include "rally/v1/llm_proxy.grpc.pb.h"

namespace rally::common {
class BlockingExecutor;
}

namespace rally::llm_proxy {

class CompletionEngine;
class UsageStatsSource;

struct LlmProxyRpcSettings {
  // GetUsageStats' window when the request gives none.
  std::chrono::milliseconds default_stats_window{24 * 60 * 60 * 1000};
};

class LlmProxyService final : public v1::LlmProxy::CallbackService {
 public:
  // `stats_executor` runs the (blocking) statistics queries off gRPC's threads. All must outlive the service.
  LlmProxyService(CompletionEngine& engine, UsageStatsSource& stats, common::BlockingExecutor& stats_executor,
                  LlmProxyRpcSettings settings = {});

  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext* context, const v1::CompleteRequest* request,
                                     v1::CompleteResponse* response) override;
  grpc::ServerWriteReactor<v1::StreamCompleteResponse>* StreamComplete(
      grpc::CallbackServerContext* context, const v1::CompleteRequest* request) override;
  grpc::ServerUnaryReactor* GetUsageStats(grpc::CallbackServerContext* context,
                                          const v1::GetUsageStatsRequest* request,
                                          v1::GetUsageStatsResponse* response) override;

 private:
  CompletionEngine& engine_;
  UsageStatsSource& stats_;
  common::BlockingExecutor& stats_executor_;
  LlmProxyRpcSettings settings_;
};

}  // namespace rally::llm_proxy
