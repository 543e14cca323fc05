// Everything the arena reads from configuration, in one struct validated once at start (docs/arena.md lists
// the keys). Only main.cc and the tests that start the service build it.
#pragma once

#include <chrono>
#include <cstdint>

#include "services/arena/domain/bradley_terry.h"
#include "services/arena/domain/elo.h"
#include "services/common/config.h"

namespace rally::arena {

struct RatingFitSettings {
  // The Bradley-Terry ratings are refitted after this many new votes ... RALLY_ARENA_BT_EVERY_VOTES
  std::uint32_t every_votes = 100;
  // ... or this long after the last fit when any vote arrived since. RALLY_ARENA_BT_INTERVAL
  std::chrono::milliseconds interval{30000};
  // RALLY_ARENA_BT_BOOTSTRAP_ROUNDS (100), RALLY_ARENA_BT_CONFIDENCE (0.95)
  BootstrapSettings bootstrap;
  // The bootstrap's random seed: the same votes always give the same intervals. RALLY_ARENA_BT_SEED
  std::uint64_t seed = 20240601;
  // Fit only votes that closed an anonymous battle (the models were unknown to the voter), not the seed's
  // /vote, where the voter saw the names. RALLY_ARENA_BT_BATTLE_VOTES_ONLY
  bool battle_votes_only = false;
  BradleyTerrySettings model;  // scale 400; the anchor follows RALLY_ARENA_ELO_INITIAL
};

struct ArenaSettings {
  // RALLY_ARENA_ELO_K (32), RALLY_ARENA_ELO_INITIAL (1200)
  EloSettings elo;
  RatingFitSettings fit;
  // The llm-proxy, which owns the catalog and serves battles. RALLY_LLM_PROXY_ADDR (the gateway's key too)
  common::HostPort llm_proxy{"127.0.0.1", 50051};
  // Deadline of ListModels. RALLY_ARENA_CATALOG_TIMEOUT
  std::chrono::milliseconds catalog_timeout{2000};
  // How often the catalog is re-read to add new models to the ratings table. RALLY_ARENA_CATALOG_REFRESH
  std::chrono::milliseconds catalog_refresh{30000};
  // Leaderboard changes are published on Redis at most this often (changes in between are coalesced).
  // RALLY_ARENA_PUBLISH_INTERVAL
  std::chrono::milliseconds publish_interval{200};
  // Threads and queue for PostgreSQL work off gRPC's threads. RALLY_ARENA_DB_THREADS, RALLY_ARENA_DB_QUEUE
  std::size_t db_threads = 8;
  std::size_t db_queue = 4096;
  // Per statement, lock waits included. RALLY_ARENA_STATEMENT_TIMEOUT
  std::chrono::milliseconds statement_timeout{5000};
  // How long a battle can be streamed and voted on. RALLY_ARENA_BATTLE_TTL
  std::chrono::milliseconds battle_ttl{30 * 60 * 1000};
  // Deadline of one side's streamed answer. RALLY_ARENA_BATTLE_STREAM_TIMEOUT
  std::chrono::milliseconds battle_stream_timeout{300000};
  // Longest battle message accepted, in bytes. RALLY_ARENA_BATTLE_MAX_MESSAGE
  std::size_t battle_max_message = 32 * 1024;

  // Throws common::ConfigError naming the key of a bad value.
  static ArenaSettings from(const common::ConfigSource& config);
};

}  // namespace rally::arena
