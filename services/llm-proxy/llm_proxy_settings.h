// Everything the llm-proxy reads from configuration, in one struct validated once at start
// (docs/architecture.md lists the keys). Only main.cc and the tests that start the service build it.
#pragma once

#include <string>

#include "services/common/config.h"
#include "services/llm-proxy/engine/completion_engine.h"
#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/rpc/llm_proxy_service.h"
#include "services/llm-proxy/storage/pg_usage_store.h"

namespace rally::llm_proxy {

struct LlmProxySettings {
  std::string catalog_path = "deploy/models.json";  // RALLY_LLM_PROXY_CATALOG
  // RALLY_LLM_PROXY_SIMULATOR_URL: models whose API key variable is unset go here. Empty: they stay on
  // their provider and fail with a clear error naming the missing variable.
  std::string simulator_url;
  EngineSettings engine;
  HttpClientOptions http;
  PgUsageStore::Settings usage;
  LlmProxyRpcSettings rpc;

  // Throws common::ConfigError naming the key of a bad value.
  static LlmProxySettings from(const common::ConfigSource& config);
};

}  // namespace rally::llm_proxy
