#include "services/scoring/domain/catalog_assembly.h"

#include <cmath>
#include <optional>
#include <utility>

namespace rally::scoring {
namespace {

// What each model key gets: the best source among the public names that resolve to it.
struct KeyInputs {
  std::optional<MeasuredPerformance> measured;
  std::optional<ArenaStanding> arena;
};

}  // namespace

bool apply_measurement(ModelInputs& inputs, const MeasuredPerformance& measured) {
  if (measured.completed_requests < kMinMeasuredRequests) return false;
  const auto positive = [](double value) { return std::isfinite(value) && value > 0; };
  const bool ttft = positive(measured.time_to_first_token_ms);
  const bool throughput = positive(measured.tokens_per_second);
  const bool errors =
      std::isfinite(measured.error_rate) && measured.error_rate >= 0 && measured.error_rate <= 1;
  if (!ttft && !throughput && !errors) return false;
  if (ttft) inputs.time_to_first_token_ms = measured.time_to_first_token_ms;
  if (throughput) inputs.tokens_per_second = measured.tokens_per_second;
  if (errors) inputs.error_rate = measured.error_rate;
  inputs.performance_source = PerformanceSource::kMeasured;
  return true;
}

ModelCatalog assemble_catalog(ModelCatalog models_dev, const ScoringSources& sources) {
  ModelCatalog catalog = std::move(models_dev);
  merge_catalog(catalog, sources.catalog);

  std::map<std::string, KeyInputs, std::less<>> by_key;
  for (const CatalogModel& model : sources.catalog) {
    const auto alias = catalog.aliases.find(model.name);
    if (alias == catalog.aliases.end()) continue;
    KeyInputs& inputs = by_key[alias->second];
    if (const auto found = sources.measured.find(model.name);
        found != sources.measured.end() && found->second.completed_requests >= kMinMeasuredRequests &&
        (!inputs.measured || found->second.completed_requests > inputs.measured->completed_requests)) {
      inputs.measured = found->second;
    }
    if (const auto found = sources.arena.find(model.name);
        found != sources.arena.end() && found->second.votes >= kMinArenaVotes &&
        std::isfinite(found->second.rating) && (!inputs.arena || found->second.votes > inputs.arena->votes)) {
      inputs.arena = found->second;
    }
  }

  for (const auto& [key, inputs] : by_key) {
    const auto record = catalog.models.find(key);
    if (record == catalog.models.end()) continue;
    ModelInputs& model = record->second.inputs;
    if (inputs.measured) apply_measurement(model, *inputs.measured);
    if (inputs.arena) model.arena_rating = inputs.arena->rating;
  }
  return catalog;
}

}  // namespace rally::scoring
