// Everything the scoring service reads from configuration, validated once at start (docs/scoring.md,
// "Service settings").
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "services/common/config.h"
#include "services/common/redis_channels.h"
#include "services/scoring/engine/scoring_engine.h"

namespace rally::common {
class ConfigSource;
}

namespace rally::scoring {

using common::kScoreUpdatesChannel;  // where stored score changes go (services/common/redis_channels.h)

struct ScoringSettings {
  // The service keeps configurations and current scores in memory for 5 s (RALLY_SCORING_CACHE_TTL): with
  // several replicas, another replica's change reaches this one's answers within that time.
  EngineSettings engine{.cache_ttl = std::chrono::seconds(5)};
  // The models.dev document loaded at start (a committed snapshot by default). RALLY_SCORING_MODELS_DEV_FILE
  std::string models_dev_file = "deploy/data/models-dev-snapshot.json";
  // Threads and queue for requests (they wait on PostgreSQL). RALLY_SCORING_DB_THREADS,
  // RALLY_SCORING_DB_QUEUE
  std::size_t db_threads = 8;
  std::size_t db_queue = 10000;
  // Per statement. RALLY_SCORING_STATEMENT_TIMEOUT
  std::chrono::milliseconds statement_timeout{5000};

  // Where the suite's catalog and measurements (RALLY_LLM_PROXY_ADDR) and the arena's ratings
  // (RALLY_ARENA_ADDR) are read, with this deadline per call. RALLY_SCORING_SOURCES_TIMEOUT
  common::HostPort llm_proxy{"127.0.0.1", 50051};
  common::HostPort arena{"127.0.0.1", 50052};
  std::chrono::milliseconds sources_timeout{2000};
  // Between scheduled recalculations (which also re-read the sources); 0 turns them off.
  // RALLY_SCORING_RECALC_INTERVAL
  std::chrono::milliseconds recalc_interval{std::chrono::hours(1)};
  // How often a replica looks for batches whose replica is gone (its PostgreSQL lock free) and takes them
  // over; also done once at start. 0: at start only. RALLY_SCORING_BATCH_ADOPT_INTERVAL
  std::chrono::milliseconds batch_adopt_interval{std::chrono::seconds(30)};
  // Updates a WatchScores stream may have waiting before it is ended as too slow. RALLY_SCORING_WATCH_QUEUE
  std::size_t watch_queue = 1000;

  // Throws common::ConfigError naming the first bad key.
  static ScoringSettings from(const common::ConfigSource& config);
};

}  // namespace rally::scoring
