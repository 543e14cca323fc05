// The catalog scores are computed from, assembled from every source the service reads: the models.dev
// document (a sync or the committed snapshot), the suite's own catalog (llm-proxy ListModels), what the
// llm-proxy measured (GetUsageStats) and the arena's ratings (Leaderboard). Pure: the rpc layer fetches the
// sources, this decides what of them a score uses (docs/scoring.md, "Where the inputs come from").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "services/scoring/domain/model_catalog.h"

namespace rally::scoring {

// One catalog model's statistics over the llm-proxy's window (rally.v1.ModelUsageStats). A figure the
// llm-proxy could not measure is 0: time to first token exists only for streamed requests.
struct MeasuredPerformance {
  std::uint64_t completed_requests = 0;  // requests the caller did not cancel
  double time_to_first_token_ms = 0;     // p50
  double tokens_per_second = 0;          // p50
  double error_rate = 0;                 // in [0, 1]
};

// With fewer completed requests the measurement is noise: the documented defaults stand.
inline constexpr std::uint64_t kMinMeasuredRequests = 5;

// Puts the measured figures into `inputs`, each one that is usable (finite; speeds positive; an error rate
// in [0, 1]), leaving the defaults for the others, and marks the performance measured. Changes nothing and
// returns false with fewer than kMinMeasuredRequests requests or no usable figure.
bool apply_measurement(ModelInputs& inputs, const MeasuredPerformance& measured);

// One catalog model's place in the arena.
struct ArenaStanding {
  double rating = 0;
  std::uint64_t votes = 0;
};

// With fewer votes a rating mostly reflects the starting value: it is not used.
inline constexpr std::uint64_t kMinArenaVotes = 10;

struct ScoringSources {
  std::vector<CatalogModel> catalog;                                 // ListModels, every model
  std::map<std::string, MeasuredPerformance, std::less<>> measured;  // by catalog public name
  std::map<std::string, ArenaStanding, std::less<>> arena;           // by catalog public name
};

// models.dev's catalog with the suite's models merged in (merge_catalog), then, for each catalog model, its
// measurement (apply_measurement) and its arena rating (with at least kMinArenaVotes votes) in the
// capability input. When several public names share one model, the measurement with the most completed
// requests and the rating with the most votes win.
ModelCatalog assemble_catalog(ModelCatalog models_dev, const ScoringSources& sources);

}  // namespace rally::scoring
