// The model catalog: every model the suite offers, where it is served and what it costs. Read from one JSON
// file (deploy/models.json, documented in docs/model-catalog.md); the arena and scoring services see it only
// through the llm-proxy's ListModels. Pure: parsing and validation take text, not files.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::llm_proxy {

enum class ProviderKind { kOpenAi, kAnthropic, kOpenAiCompatible };

std::string_view provider_kind_name(ProviderKind kind);  // "openai", "anthropic", "openai-compatible"
std::optional<ProviderKind> parse_provider_kind(std::string_view name);

struct ModelPricing {
  double usd_per_1k_tokens = 0;  // the seed leaderboard's price
  double input_usd_per_1m_tokens = 0;
  double output_usd_per_1m_tokens = 0;
};

struct CatalogModel {
  std::string name;  // public name, unique
  std::string display_name;
  ProviderKind provider = ProviderKind::kOpenAi;
  std::string upstream_model;  // id sent to the provider
  std::string base_url;        // scheme://host[:port], no path ("https://api.openai.com")
  std::string api_key_env;     // environment variable holding the key; empty for keyless local servers
  ModelPricing price;
  bool enabled = true;
  double sampling_weight = 1.0;
  std::vector<std::string> fallbacks;  // other catalog models, tried in order
  std::uint32_t default_max_tokens = 1024;
  std::string models_dev_id;  // "provider/model" in models.dev, for the scoring service
  bool simulated = false;     // set by route_to_simulator, never by the file
};

class Catalog {
 public:
  explicit Catalog(std::vector<CatalogModel> models) : models_(std::move(models)) {}

  const std::vector<CatalogModel>& models() const { return models_; }
  const CatalogModel* find(std::string_view name) const;
  // Names of enabled models, in catalog order (for "unknown model" messages).
  std::vector<std::string> enabled_names() const;

  // Sends every model whose provider key is missing to the LLM simulator at `simulator_base_url` (its
  // OpenAI and Anthropic endpoints, so each provider's real code path is still used) and marks it simulated.
  // `env` returns the value of an environment variable, or nullopt when unset. Returns how many moved.
  std::size_t route_to_simulator(std::string_view simulator_base_url,
                                 const std::function<std::optional<std::string>(const std::string&)>& env);

 private:
  std::vector<CatalogModel> models_;
};

// Parses and validates the catalog file's text. Errors are INVALID_REQUEST with a message naming the model
// and field ("models[3] (gpt-4o).price.input_usd_per_1m_tokens: must be a number >= 0").
common::Result<Catalog> parse_catalog(std::string_view json_text);

// Cost of a completion in USD from per-1M prices.
double completion_cost_usd(const ModelPricing& price, std::uint64_t prompt_tokens,
                           std::uint64_t completion_tokens);

}  // namespace rally::llm_proxy
