#include "services/arena/arena_settings.h"

namespace rally::arena {

ArenaSettings ArenaSettings::from(const common::ConfigSource& config) {
  using std::chrono::milliseconds;
  constexpr milliseconds kHour{60 * 60 * 1000};
  ArenaSettings settings;
  settings.elo.k = config.get_double("RALLY_ARENA_ELO_K", settings.elo.k, 0.0, 1000.0);
  settings.elo.initial = config.get_double("RALLY_ARENA_ELO_INITIAL", settings.elo.initial, -1e6, 1e6);

  RatingFitSettings& fit = settings.fit;
  fit.every_votes =
      static_cast<std::uint32_t>(config.get_int("RALLY_ARENA_BT_EVERY_VOTES", fit.every_votes, 1, 1'000'000));
  fit.interval = config.get_duration("RALLY_ARENA_BT_INTERVAL", fit.interval, milliseconds(10), kHour * 24);
  fit.bootstrap.rounds = static_cast<std::uint32_t>(
      config.get_int("RALLY_ARENA_BT_BOOTSTRAP_ROUNDS", fit.bootstrap.rounds, 0, 10'000));
  fit.bootstrap.confidence =
      config.get_double("RALLY_ARENA_BT_CONFIDENCE", fit.bootstrap.confidence, 0.5, 0.999);
  fit.seed = static_cast<std::uint64_t>(
      config.get_int("RALLY_ARENA_BT_SEED", static_cast<std::int64_t>(fit.seed), 0, INT64_MAX));
  fit.battle_votes_only = config.get_bool("RALLY_ARENA_BT_BATTLE_VOTES_ONLY", fit.battle_votes_only);
  fit.model.anchor = settings.elo.initial;

  settings.llm_proxy = config.get_host_port("RALLY_LLM_PROXY_ADDR", settings.llm_proxy.to_string());
  settings.catalog_timeout =
      config.get_duration("RALLY_ARENA_CATALOG_TIMEOUT", settings.catalog_timeout, milliseconds(10), kHour);
  settings.catalog_refresh =
      config.get_duration("RALLY_ARENA_CATALOG_REFRESH", settings.catalog_refresh, milliseconds(100), kHour);
  settings.publish_interval =
      config.get_duration("RALLY_ARENA_PUBLISH_INTERVAL", settings.publish_interval, milliseconds(0), kHour);
  settings.db_threads = static_cast<std::size_t>(
      config.get_int("RALLY_ARENA_DB_THREADS", static_cast<std::int64_t>(settings.db_threads), 1, 256));
  settings.db_queue = static_cast<std::size_t>(
      config.get_int("RALLY_ARENA_DB_QUEUE", static_cast<std::int64_t>(settings.db_queue), 1, 1'000'000));
  settings.statement_timeout = config.get_duration("RALLY_ARENA_STATEMENT_TIMEOUT",
                                                   settings.statement_timeout, milliseconds(10), kHour);
  settings.battle_ttl =
      config.get_duration("RALLY_ARENA_BATTLE_TTL", settings.battle_ttl, milliseconds(1000), kHour * 24 * 7);
  settings.battle_stream_timeout = config.get_duration(
      "RALLY_ARENA_BATTLE_STREAM_TIMEOUT", settings.battle_stream_timeout, milliseconds(100), kHour);
  settings.battle_max_message = static_cast<std::size_t>(
      config.get_bytes("RALLY_ARENA_BATTLE_MAX_MESSAGE", settings.battle_max_message, 1, 16 * 1024 * 1024));
  return settings;
}

}  // namespace rally::arena
