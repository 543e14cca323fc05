// The gateway's Authenticator: every unrevoked API token in memory, keyed by its SHA-256, so checking a
// token costs a hash and a lookup and never a query. The cache loads the tokens from the TokenStore on its
// own thread, at start (retrying every `retry` while PostgreSQL is unreachable) and then every `refresh`.
// Changes reach it at once: the gateway that creates or revokes a token calls created()/revoked(), which
// update this cache and publish the change on the Redis channel kTokenEventsChannel; every other cache
// subscribed to it applies a revocation immediately and reloads on a creation. A cache also reloads when
// its subscription comes back after a Redis outage, in which it may have missed changes; without Redis,
// other gateways see changes within `refresh`. Uses are recorded in memory and written to the store in one
// batch every `last_used_flush`, never on the request path.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "gateway/edge/access.h"
#include "services/common/redis_client.h"

namespace rally::gateway::edge {

class TokenStore;

// Where token changes are announced, as {"op":"created"|"revoked","id":"tok_..."}.
inline constexpr std::string_view kTokenEventsChannel = "rally:gateway:tokens";

// The message announcing that token `id` was created (op "created") or revoked (op "revoked").
std::string token_event_message(std::string_view op, std::string_view id);

struct TokenCacheSettings {
  // How often the whole set is reloaded. RALLY_GATEWAY_TOKEN_REFRESH
  std::chrono::milliseconds refresh{30000};
  // How often recorded uses are written to last_used_at. RALLY_GATEWAY_TOKEN_LAST_USED_FLUSH
  std::chrono::milliseconds last_used_flush{10000};
  // How soon a failed load is tried again; also how often the Redis subscription's state is checked.
  std::chrono::milliseconds retry{1000};
};

class TokenCache final : public Authenticator {
 public:
  // Starts loading at once, in the background: the constructor never waits for PostgreSQL or Redis.
  // `store` must outlive the cache.
  TokenCache(TokenStore& store, const common::RedisSettings& redis, TokenCacheSettings settings);
  // Stops the background thread and the subscription, then writes the uses not yet flushed (one try).
  ~TokenCache() override;
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // From memory. Tokens longer than 512 bytes are refused unhashed. Records the use. Any thread.
  std::optional<Principal> authenticate(std::string_view raw_token) const override;

  // False until the first successful load: the tokens are unknown, not absent, so callers answer 503
  // rather than 401.
  bool loaded() const { return loaded_.load(std::memory_order_acquire); }
  bool ready() const override { return loaded(); }
  // Active tokens in memory.
  std::size_t size() const;
  // True while the Redis subscription to kTokenEventsChannel is live.
  bool subscribed() const;

  // After this gateway created token `id` in the store: loads the tokens now and announces the token.
  // Blocks (a query and a Redis command): call it off the I/O threads.
  void created(std::string_view id);
  // After this gateway revoked token `id` in the store: drops it now and announces the revocation. Blocks
  // on Redis (bounded by its command timeout).
  void revoked(std::string_view id);

  // Loads every active token from the store now, on the calling thread. False when the store failed (the
  // tokens in memory stay as they were).
  bool reload();
  // Writes the uses recorded since the last flush now; uses that fail to be written are kept for the next
  // try. The background thread calls it every last_used_flush.
  void flush_last_used();

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    Digest hash{};
    Principal principal;
  };
  // Keyed by the digest's first 8 bytes (already uniformly distributed); candidates are then compared in
  // full in constant time.
  using Tokens = std::unordered_multimap<std::uint64_t, Entry>;

  static std::uint64_t bucket_of(const Digest& digest);
  std::shared_ptr<const Tokens> current() const;
  void forget(const std::string& id);  // tombstones `id` and drops it; state_mutex_ not held
  void on_event(std::string_view message);
  void request_reload();
  void run();

  TokenStore& store_;
  const TokenCacheSettings settings_;

  mutable std::mutex state_mutex_;
  std::shared_ptr<const Tokens> tokens_;  // replaced, never modified in place
  // Ids known to be revoked: a load that read the table before a revocation committed must not bring the
  // token back. Revocation is permanent, so the set only grows (by the few tokens ever revoked).
  std::set<std::string, std::less<>> revoked_ids_;
  std::atomic<bool> loaded_{false};
  std::mutex load_mutex_;      // one load at a time, so an older read never replaces a newer one
  bool load_failing_ = false;  // under load_mutex_: logs an outage once

  mutable std::mutex uses_mutex_;
  mutable std::map<std::string, std::chrono::system_clock::time_point> uses_;  // id -> last use

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool reload_requested_ = false;
  bool stopping_ = false;

  std::unique_ptr<common::RedisClient> publisher_;
  std::unique_ptr<common::RedisSubscriber> subscriber_;
  std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace rally::gateway::edge
