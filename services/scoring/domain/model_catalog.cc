#include "services/scoring/domain/model_catalog.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace rally::scoring {
namespace {

namespace json = boost::json;

std::optional<double> number_at(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_double()) {
    if (!std::isfinite(v->get_double())) return std::nullopt;
    return v->get_double();
  }
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

// A token count: a non-negative number, truncated; 0 when absent or odd.
std::uint64_t count_at(const json::object& object, std::string_view key) {
  if (const json::value* v = object.if_contains(key); v != nullptr && v->is_uint64()) return v->get_uint64();
  const std::optional<double> n = number_at(object, key);
  if (!n || *n < 0 || *n >= 1.8e19) return 0;
  return static_cast<std::uint64_t>(*n);
}

std::string string_at(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

bool bool_at(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

const json::object* object_at(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v == nullptr ? nullptr : v->if_object();
}

std::vector<std::string> strings_at(const json::object& object, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = object.if_contains(key);
  if (v == nullptr || !v->is_array()) return out;
  for (const json::value& item : v->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

ModelRecord parse_model(std::string_view provider, std::string_view model_id, const json::object& m) {
  ModelRecord r;
  r.provider = std::string(provider);
  r.model_id = std::string(model_id);
  r.key = r.provider + "/" + r.model_id;
  r.name = string_at(m, "name");
  if (r.name.empty()) r.name = r.model_id;
  r.family = string_at(m, "family");
  r.data_source = "models.dev";
  ModelInputs& in = r.inputs;
  if (const json::object* cost = object_at(m, "cost")) {
    in.input_usd_per_1m_tokens = number_at(*cost, "input");
    in.output_usd_per_1m_tokens = number_at(*cost, "output");
  }
  if (const json::object* limit = object_at(m, "limit")) {
    in.context_window_tokens = count_at(*limit, "context");
    in.max_output_tokens = count_at(*limit, "output");
  }
  in.release_date = string_at(m, "release_date");
  in.last_updated = string_at(m, "last_updated");
  in.knowledge_cutoff = string_at(m, "knowledge");
  in.reasoning = bool_at(m, "reasoning");
  in.tool_call = bool_at(m, "tool_call");
  in.structured_output = bool_at(m, "structured_output");
  in.attachment = bool_at(m, "attachment");
  in.open_weights = bool_at(m, "open_weights");
  if (const json::object* modalities = object_at(m, "modalities")) {
    in.input_modalities = strings_at(*modalities, "input");
    in.output_modalities = strings_at(*modalities, "output");
  }
  use_default_performance(in);
  return r;
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::size_t preference_rank(std::string_view provider) {
  const auto* it = std::find(kPreferredProviders.begin(), kPreferredProviders.end(), provider);
  return static_cast<std::size_t>(it - kPreferredProviders.begin());
}

std::string folded(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

// Provider preference, then the lowest key.
bool preferred_over(const ModelRecord& a, const ModelRecord& b) {
  return std::make_pair(preference_rank(a.provider), std::string_view(a.key)) <
         std::make_pair(preference_rank(b.provider), std::string_view(b.key));
}

// Makes `record` the index's entry for `id` when it is preferred over the entry's current record.
void index_preferred(const ModelCatalog& catalog, std::map<std::string, std::string, std::less<>>& index,
                     std::string id, const ModelRecord& record) {
  auto [entry, inserted] = index.try_emplace(std::move(id), record.key);
  if (inserted || entry->second == record.key) return;
  const auto current = catalog.models.find(entry->second);
  if (current == catalog.models.end() || preferred_over(record, current->second)) entry->second = record.key;
}

const ModelRecord* indexed(const ModelCatalog& catalog,
                           const std::map<std::string, std::string, std::less<>>& index,
                           std::string_view id) {
  const auto entry = index.find(id);
  if (entry == index.end()) return nullptr;
  const auto record = catalog.models.find(entry->second);
  return record == catalog.models.end() ? nullptr : &record->second;
}

}  // namespace

void add_model(ModelCatalog& catalog, ModelRecord record) {
  const std::string key = record.key;
  const ModelRecord& stored = catalog.models.insert_or_assign(key, std::move(record)).first->second;
  auto [lowest, inserted] = catalog.lowest_key_by_folded_key.try_emplace(folded(key), key);
  if (!inserted && key < lowest->second) lowest->second = key;
  index_preferred(catalog, catalog.preferred_key_by_model_id, stored.model_id, stored);
  index_preferred(catalog, catalog.preferred_key_by_folded_model_id, folded(stored.model_id), stored);
}

common::Result<ModelCatalog> parse_models_dev(std::string_view text) {
  boost::system::error_code ec;
  const json::value document = json::parse(text, ec);
  if (ec) {
    return common::Error(common::ErrorCode::kUpstreamError,
                         "models.dev document is not JSON: " + ec.message());
  }
  const json::object* root = document.if_object();
  if (root == nullptr) {
    return common::Error(common::ErrorCode::kUpstreamError, "models.dev document is not a JSON object");
  }
  ModelCatalog catalog;
  for (const auto& [provider_key, provider_value] : *root) {
    if (provider_key.starts_with("_")) {
      if (provider_key == "_retrieved" && provider_value.is_string()) {
        catalog.retrieved = std::string(provider_value.get_string());
      } else if (const json::object* source = provider_value.if_object();
                 provider_key == "_source" && source) {
        catalog.source_commit = string_at(*source, "commit");
      }
      continue;
    }
    const json::object* provider = provider_value.if_object();
    if (provider == nullptr || provider_key.empty()) continue;
    ++catalog.provider_count;
    const json::object* models = object_at(*provider, "models");
    if (models == nullptr) continue;
    for (const auto& [model_key, model_value] : *models) {
      const json::object* model = model_value.if_object();
      if (model == nullptr || model_key.empty()) {
        ++catalog.skipped_models;
        continue;
      }
      add_model(catalog, parse_model(provider_key, model_key, *model));
    }
  }
  return catalog;
}

void merge_catalog(ModelCatalog& catalog, const std::vector<CatalogModel>& models) {
  for (const CatalogModel& m : models) {
    const std::string upstream = m.upstream_model_id.empty() ? m.name : m.upstream_model_id;
    const std::string key = m.models_dev_key.empty() ? m.provider + "/" + upstream : m.models_dev_key;
    auto it = catalog.models.find(key);
    if (it == catalog.models.end()) {
      ModelRecord record;
      record.key = key;
      const std::size_t slash = key.find('/');
      record.provider = slash == std::string::npos ? m.provider : key.substr(0, slash);
      record.model_id = slash == std::string::npos ? upstream : key.substr(slash + 1);
      record.name = m.display_name.empty() ? m.name : m.display_name;
      record.data_source = "catalog";
      record.inputs.input_usd_per_1m_tokens = m.input_usd_per_1m_tokens;
      record.inputs.output_usd_per_1m_tokens = m.output_usd_per_1m_tokens;
      use_default_performance(record.inputs);
      add_model(catalog, std::move(record));
    } else {
      ModelInputs& in = it->second.inputs;
      if (!in.input_usd_per_1m_tokens) in.input_usd_per_1m_tokens = m.input_usd_per_1m_tokens;
      if (!in.output_usd_per_1m_tokens) in.output_usd_per_1m_tokens = m.output_usd_per_1m_tokens;
    }
    if (!m.name.empty()) catalog.aliases.insert_or_assign(m.name, key);
  }
}

std::optional<Resolution> resolve_model(const ModelCatalog& catalog, std::string_view id) {
  if (id.empty()) return std::nullopt;
  if (auto it = catalog.models.find(id); it != catalog.models.end()) {
    return Resolution{&it->second, ResolvedBy::kKey};
  }
  if (auto alias = catalog.aliases.find(id); alias != catalog.aliases.end()) {
    if (auto it = catalog.models.find(alias->second); it != catalog.models.end()) {
      return Resolution{&it->second, ResolvedBy::kCatalogName};
    }
  }
  const std::string folded_id = folded(id);
  if (id.find('/') != std::string_view::npos) {
    if (const ModelRecord* r = indexed(catalog, catalog.lowest_key_by_folded_key, folded_id)) {
      return Resolution{r, ResolvedBy::kKeyIgnoringCase};
    }
  }
  if (const ModelRecord* r = indexed(catalog, catalog.preferred_key_by_model_id, id)) {
    return Resolution{r, ResolvedBy::kProviderPreference};
  }
  if (const ModelRecord* r = indexed(catalog, catalog.preferred_key_by_folded_model_id, folded_id)) {
    return Resolution{r, ResolvedBy::kProviderPreference};
  }
  return std::nullopt;
}

std::vector<std::string> aliases_of(const ModelCatalog& catalog, std::string_view key) {
  std::vector<std::string> aliases;
  const auto record = catalog.models.find(key);
  if (record == catalog.models.end()) return aliases;
  for (const auto& [name, target] : catalog.aliases) {
    if (target == key && name != key) aliases.push_back(name);
  }
  const std::string& bare = record->second.model_id;
  if (bare != key) {
    const std::optional<Resolution> resolution = resolve_model(catalog, bare);
    if (resolution && resolution->record == &record->second &&
        resolution->by != ResolvedBy::kKeyIgnoringCase) {
      aliases.push_back(bare);
    }
  }
  std::sort(aliases.begin(), aliases.end());
  aliases.erase(std::unique(aliases.begin(), aliases.end()), aliases.end());
  return aliases;
}

}  // namespace rally::scoring
