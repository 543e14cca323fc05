// rally-llm-proxy: wires configuration to the llm-proxy service and runs it (see
// services/common/service_main.h).
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "migrations/rally_llm_proxy.h"
#include "services/common/blocking_executor.h"
#include "services/common/service_main.h"
#include "services/llm-proxy/llm_proxy_settings.h"
#include "services/llm-proxy/provider/http_provider_client.h"

namespace {

using namespace rally;

std::optional<std::string> environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

llm_proxy::Catalog load_catalog(const llm_proxy::LlmProxySettings& settings) {
  std::ifstream file(settings.catalog_path);
  if (!file) throw common::ConfigError("RALLY_LLM_PROXY_CATALOG", "cannot read " + settings.catalog_path);
  std::ostringstream text;
  text << file.rdbuf();
  common::Result<llm_proxy::Catalog> catalog = llm_proxy::parse_catalog(text.str());
  if (!catalog.ok()) {
    throw common::ConfigError("RALLY_LLM_PROXY_CATALOG",
                              settings.catalog_path + ": " + catalog.error().message);
  }
  if (!settings.simulator_url.empty()) {
    const std::size_t moved = catalog->route_to_simulator(settings.simulator_url, environment);
    if (moved > 0) {
      spdlog::warn("{} of {} models have no provider API key and are served by the LLM simulator at {}",
                   moved, catalog->models().size(), settings.simulator_url);
    }
  }
  for (const llm_proxy::CatalogModel& model : catalog->models()) {
    if (!model.simulated && !model.api_key_env.empty() && !environment(model.api_key_env)) {
      spdlog::warn("{}: {} is not set, so requests for it will fail", model.name, model.api_key_env);
    }
  }
  return std::move(catalog).value();
}

}  // namespace

int main(int argc, char** argv) {
  common::ServiceDefinition service;
  service.name = "llm-proxy";
  service.config_prefix = "LLM_PROXY";
  service.default_listen = {"127.0.0.1", 50051};
  service.default_metrics_listen = {"127.0.0.1", 9101};
  service.migrations = &llm_proxy::migrations();
  service.grpc_service_names = {v1::LlmProxy::service_full_name()};
  service.make_services = [](common::ServiceContext& context) {
    const llm_proxy::LlmProxySettings settings = llm_proxy::LlmProxySettings::from(context.config);
    // Destroyed in reverse order once the gRPC server has drained (so no completion is in flight): the
    // engine, the provider clients, then the usage store, which writes what the engine recorded last.
    auto& usage = context.own(std::make_unique<llm_proxy::PgUsageStore>(context.postgres, settings.usage));
    auto& stats_executor = context.own(std::make_unique<common::BlockingExecutor>(2, 256));
    auto& providers_http = context.own(std::make_unique<llm_proxy::HttpClient>(settings.http));
    auto& providers = context.own(std::make_unique<llm_proxy::HttpProviderClient>(providers_http));
    auto& engine = context.own(std::make_unique<llm_proxy::CompletionEngine>(
        load_catalog(settings), providers, usage, settings.engine, environment, context.metrics));
    std::vector<std::unique_ptr<grpc::Service>> handlers;
    handlers.push_back(
        std::make_unique<llm_proxy::LlmProxyService>(engine, usage, stats_executor, settings.rpc));
    return handlers;
  };
  return common::run_service(argc, argv, service);
}
