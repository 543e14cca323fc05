// Everything the scoring service reads from configuration, validated once at start (docs/scoring.md,
// "Service settings").
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "services/scoring/engine/scoring_engine.h"

namespace rally::common {
class ConfigSource;
}

namespace rally::scoring {

// Where stored score changes are published for the gateway's WebSocket subscribers (rally.v1.ScoreUpdate,
// binary protobuf).
inline constexpr std::string_view kScoreUpdatesChannel = "rally:scoring:updates";

struct ScoringSettings {
  EngineSettings engine;
  // The models.dev document loaded at start (a committed snapshot by default). RALLY_SCORING_MODELS_DEV_FILE
  std::string models_dev_file = "deploy/data/models-dev-snapshot.json";
  // Threads and queue for requests (they wait on PostgreSQL). RALLY_SCORING_DB_THREADS,
  // RALLY_SCORING_DB_QUEUE
  std::size_t db_threads = 8;
  std::size_t db_queue = 10000;
  // Per statement. RALLY_SCORING_STATEMENT_TIMEOUT
  std::chrono::milliseconds statement_timeout{5000};

  // Throws common::ConfigError naming the first bad key.
  static ScoringSettings from(const common::ConfigSource& config);
};

}  // namespace rally::scoring
