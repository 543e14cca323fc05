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
  settings.engine.cache_ttl =
      config.get_duration("RALLY_SCORING_CACHE_TTL", settings.engine.cache_ttl, milliseconds(0), kHour);
  settings.models_dev_file = config.get_string("RALLY_SCORING_MODELS_DEV_FILE", settings.models_dev_file);
  settings.db_threads = static_cast<std::size_t>(
      config.get_int("RALLY_SCORING_DB_THREADS", static_cast<std::int64_t>(settings.db_threads), 1, 256));
  settings.db_queue = static_cast<std::size_t>(
      config.get_int("RALLY_SCORING_DB_QUEUE", static_cast<std::int64_t>(settings.db_queue), 1, 1'000'000));
  settings.statement_timeout = config.get_duration("RALLY_SCORING_STATEMENT_TIMEOUT",
                                                   settings.statement_timeout, milliseconds(10), kHour);
  settings.llm_proxy = config.get_host_port("RALLY_LLM_PROXY_ADDR", settings.llm_proxy.to_string());
  settings.arena = config.get_host_port("RALLY_ARENA_ADDR", settings.arena.to_string());
  settings.sources_timeout = config.get_duration("RALLY_SCORING_SOURCES_TIMEOUT", settings.sources_timeout,
                                                 milliseconds(10), milliseconds(60'000));
  settings.recalc_interval = config.get_duration("RALLY_SCORING_RECALC_INTERVAL", settings.recalc_interval,
                                                 milliseconds(0), kHour * 24 * 7);
  settings.batch_adopt_interval = config.get_duration(
      "RALLY_SCORING_BATCH_ADOPT_INTERVAL", settings.batch_adopt_interval, milliseconds(0), kHour * 24);
  settings.watch_queue = static_cast<std::size_t>(config.get_int(
      "RALLY_SCORING_WATCH_QUEUE", static_cast<std::int64_t>(settings.watch_queue), 1, 1'000'000));
  return settings;
}

}  // namespace rally::scoring
