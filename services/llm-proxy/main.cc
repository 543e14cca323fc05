// rally-llm-proxy: wires configuration to the llm-proxy service and runs it (see services/common/service_main.h).
#include <memory>
#include <vector>

#include "migrations/rally_llm_proxy.h"
#include "services/common/service_main.h"
#include "services/llm-proxy/rpc/llm_proxy_service.h"

int main(int argc, char** argv) {
  using namespace rally;
  common::ServiceDefinition service;
  service.name = "llm-proxy";
  service.config_prefix = "LLM_PROXY";
  service.default_listen = {"127.0.0.1", 50051};
  service.default_metrics_listen = {"127.0.0.1", 9101};
  service.migrations = &llm_proxy::migrations();
  service.grpc_service_names = {v1::LlmProxy::service_full_name()};
  service.make_services = [](common::ServiceContext&) {
    std::vector<std::unique_ptr<grpc::Service>> handlers;
    handlers.push_back(std::make_unique<llm_proxy::LlmProxyService>());
    return handlers;
  };
  return common::run_service(argc, argv, service);
}
