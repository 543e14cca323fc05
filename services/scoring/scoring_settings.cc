#include "services/scoring/scoring_settings.h"

#include <cstdint>

#include "services/common/config.h"

namespace rally::scoring {

ScoringSettings ScoringSettings::from(const common::ConfigSource& config) {
  using std::chrono::milliseconds;
  constexpr auto kHour = std::chrono::duration_cast<milliseconds>(std::chrono::hours(1));
  ScoringSettings settings;
  settings.engine.score_ttl = std::chrono::duration_cast<std::chrono::seconds>(config.get_duration(
      "RALLY_SCORING_SCORE_TTL", settings.engine.score_ttl, milliseconds(1000), kHour * 24 * 30));
  settings.models_dev_file = config.get_string("RALLY_SCORING_MODELS_DEV_FILE", settings.models_dev_file);
  settings.db_threads = static_cast<std::size_t>(
      config.get_int("RALLY_SCORING_DB_THREADS", static_cast<std::int64_t>(settings.db_threads), 1, 256));
  settings.db_queue = static_cast<std::size_t>(
      config.get_int("RALLY_SCORING_DB_QUEUE", static_cast<std::int64_t>(settings.db_queue), 1, 1'000'000));
  settings.statement_timeout = config.get_duration("RALLY_SCORING_STATEMENT_TIMEOUT",
                                                   settings.statement_timeout, milliseconds(10), kHour);
  return settings;
}

}  // namespace rally::scoring
