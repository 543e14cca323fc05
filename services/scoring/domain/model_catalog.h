// The models the scoring service knows: parsed from models.dev's api.json
// (deploy/data/models-dev-snapshot.json is a committed copy), merged with the suite's own catalog
// (deploy/models.json), and looked up by "provider/model" key or by bare model id with a documented provider
// preference (docs/scoring.md).
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"
#include "services/scoring/domain/score_components.h"

namespace rally::scoring {

struct ModelRecord {
  std::string key;          // "provider/model", e.g. "openai/gpt-4o" (a model id may itself contain '/')
  std::string provider;     // models.dev provider id
  std::string model_id;     // models.dev model id
  std::string name;         // display name ("GPT-4o"); the model id when models.dev has none
  std::string family;       // "gpt", or empty
  ModelInputs inputs;       // performance fields at their defaults, no arena rating
  std::string data_source;  // "models.dev" or "catalog"
};

struct ModelCatalog {
  std::map<std::string, ModelRecord, std::less<>> models;   // by key
  std::map<std::string, std::string, std::less<>> aliases;  // catalog public name -> key
  std::size_t provider_count = 0;                           // providers read (objects under non-"_" keys)
  std::size_t skipped_models = 0;  // model entries that were not objects, or had an empty id
  std::string source_commit;       // _source.commit, when present
  std::string retrieved;           // _retrieved, when present

  // Lookup indexes, kept by add_model: resolving an id costs a few map lookups, not a pass over every model
  // (a catalog holds thousands, and every announced score resolves its bare id). Keys are whole keys.
  std::map<std::string, std::string, std::less<>> lowest_key_by_folded_key;   // ASCII lower case
  std::map<std::string, std::string, std::less<>> preferred_key_by_model_id;  // provider preference
  std::map<std::string, std::string, std::less<>> preferred_key_by_folded_model_id;
};

// Inserts (or replaces) the record under record.key and updates the indexes. Everything that adds models to
// a catalog goes through here.
void add_model(ModelCatalog& catalog, ModelRecord record);

// Parses models.dev's api.json shape: {providerId: {..., models: {modelId: {...}}}}, keys starting with '_'
// being metadata. Fields of the wrong type count as missing; a model that is not an object is skipped and
// counted; a provider that is not an object, or has no "models" object, contributes nothing. Only a document
// that is not JSON or not an object is an error (kUpstreamError).
common::Result<ModelCatalog> parse_models_dev(std::string_view json);

// A model of the suite's own catalog (deploy/models.json).
struct CatalogModel {
  std::string name;               // public name, e.g. "gpt-4o"
  std::string display_name;       // "GPT-4o"; name when empty
  std::string provider;           // "openai"
  std::string upstream_model_id;  // id at the provider; name when empty
  std::string models_dev_key;     // "openai/gpt-4o"; provider/upstream_model_id when empty
  std::optional<double> input_usd_per_1m_tokens;
  std::optional<double> output_usd_per_1m_tokens;
};

// Makes every catalog model present and resolvable by its public name (an alias). A model models.dev already
// has keeps its data, taking the catalog's price only where models.dev has none; a model it lacks is added
// with data_source "catalog", the catalog's prices and every other field unknown.
void merge_catalog(ModelCatalog& catalog, const std::vector<CatalogModel>& models);

// First-party providers, most preferred first; a bare id found under several providers resolves to the one
// listed earliest, then to the alphabetically first provider id.
inline constexpr std::array<std::string_view, 16> kPreferredProviders = {
    "openai",  "anthropic",  "google", "llama",   "mistral",    "deepseek", "xai",    "cohere",
    "alibaba", "moonshotai", "zai",    "minimax", "perplexity", "upstage",  "xiaomi", "stepfun"};

enum class ResolvedBy {
  kKey,                 // an exact "provider/model" key
  kCatalogName,         // a catalog public name (exact)
  kKeyIgnoringCase,     // a key, ignoring ASCII case
  kProviderPreference,  // a bare model id (exact case first, else ignoring case) and the preference above
};

struct Resolution {
  const ModelRecord* record = nullptr;  // points into the catalog
  ResolvedBy by = ResolvedBy::kKey;
};

// The order of attempts is that of ResolvedBy. Ignoring case, when several keys match the lowest one
// (bytewise) wins. nullopt when nothing matches.
std::optional<Resolution> resolve_model(const ModelCatalog& catalog, std::string_view id);

// The ids other than `key` that resolve to it with the exact case: its catalog public names and its bare
// model id when the provider preference picks it. Sorted, without duplicates; empty for an unknown key.
std::vector<std::string> aliases_of(const ModelCatalog& catalog, std::string_view key);

}  // namespace rally::scoring
