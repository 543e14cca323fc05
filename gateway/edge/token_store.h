// API tokens in PostgreSQL (gateway.api_tokens, migrations in gateway/migrations/). Only a token's SHA-256
// is stored; the raw token exists in the answer to create() and nowhere else. Every call applies the
// gateway's migrations first when this store has not done so yet, so the gateway, rally-admin and tests
// need no separate set-up step. Calls block (PostgreSQL round trips): keep them off I/O threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/edge/access.h"
#include "services/common/errors.h"

namespace rally::common {
class PgPool;
}

namespace rally::gateway::edge {

// Route class -> requests per window (Principal::rate_limits).
using RateLimits = std::map<std::string, std::uint32_t, std::less<>>;

// A token as listed: never its hash.
struct TokenRecord {
  std::string id;  // "tok_" + 16 hex digits
  std::string name;
  Scope scope = Scope::kRead;
  RateLimits rate_limits;
  std::chrono::system_clock::time_point created_at;
  std::optional<std::chrono::system_clock::time_point> last_used_at;
  std::optional<std::chrono::system_clock::time_point> revoked_at;

  bool revoked() const { return revoked_at.has_value(); }
};

// What create() answers: the record and the raw token, which is not stored and cannot be shown again.
struct CreatedToken {
  TokenRecord token;
  std::string raw_token;  // "rally_" + 64 hex digits (32 random bytes)
};

// An unrevoked token as the cache needs it.
struct ActiveToken {
  std::string id;
  std::string name;
  std::string token_hash;  // hex SHA-256 of the raw token
  Scope scope = Scope::kRead;
  RateLimits rate_limits;
};

// What import() did.
struct ImportedToken {
  std::string id;
  bool created = false;  // false: it was stored already
  bool revoked = false;  // it was stored already, and revoked
};

// Names: 1-64 characters of [A-Za-z0-9._-], not starting with "tok_" (so that revoke() can take an id or a
// name without ambiguity). kInvalidRequest naming the field otherwise.
std::optional<common::Error> check_token_name(std::string_view name);
// Route classes must be among kRateLimitClasses (rate_limit_classes.h); limits 0..1000000 requests per
// window, 0 meaning "not limited" for this token.
std::optional<common::Error> check_rate_limits(const RateLimits& limits);
// "read,write" or "admin": comma-separated scope names, at least one; the highest wins (scopes nest).
common::Result<Scope> parse_scope_list(std::string_view names);
// The scopes a token of `scope` grants, lowest first: write -> {"read", "write"}.
std::vector<std::string_view> granted_scope_names(Scope scope);
// True for "tok_" + 16 lower-case hex digits.
bool is_token_id(std::string_view text);

class TokenStore {
 public:
  struct Settings {
    // Bound on every statement (SET LOCAL statement_timeout).
    std::chrono::milliseconds statement_timeout{5000};
  };

  // `pool` must outlive the store.
  explicit TokenStore(common::PgPool& pool, Settings settings);
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // A new token with a fresh random id and raw token. kInvalidRequest for a bad name or limits, kConflict
  // when the name is taken (also by a revoked token).
  common::Result<CreatedToken> create(std::string_view name, Scope scope, const RateLimits& rate_limits);

  // Every token, revoked ones included, oldest first.
  common::Result<std::vector<TokenRecord>> list();

  // Revokes the token with this id or name; at once and for good. Revoking a revoked token changes nothing
  // and answers its record. kNotFound when no token has that id or name.
  common::Result<TokenRecord> revoke(std::string_view id_or_name);

  // Every unrevoked token, with its hash.
  common::Result<std::vector<ActiveToken>> load_active();

  // Records when tokens were last used: one statement for the whole batch, and a time never moves back.
  // Unknown ids are ignored. Returns the number of tokens updated.
  common::Result<std::size_t> touch_last_used(
      const std::map<std::string, std::chrono::system_clock::time_point>& uses);

  // Stores an existing raw token (e.g. ./rally up's .rally/admin.token) under `name`. Idempotent: the same
  // name, token and scope again changes nothing (also when that token was revoked: a revocation stands).
  // kConflict when the name belongs to another token or scope, or the token is stored under another name;
  // kInvalidRequest for a raw token outside 16-256 printable, non-space ASCII characters.
  common::Result<ImportedToken> import(std::string_view name, Scope scope, std::string_view raw_token);

  // Applies the gateway's migrations unless this store already did (logging the schema version). Every call
  // above does this first. kDatabaseError when PostgreSQL is unreachable, kInternal when a migration fails
  // on a reachable server (a defect, logged as critical once).
  std::optional<common::Error> ensure_schema();

 private:
  // Runs work(pqxx::work&) -> Result<T> in a transaction after ensure_schema(); see token_store.cc.
  template <typename T, typename Work>
  common::Result<T> run(std::string_view what, Work&& work);
  // An outage is logged when it starts and when it ends, not on every call while it lasts (the cache
  // retries every second).
  void note_success();
  void note_failure(std::string_view what, const std::exception& e);

  common::PgPool& pool_;
  Settings settings_;
  std::mutex migrate_mutex_;
  std::atomic<bool> migrated_{false};
  std::atomic<bool> failing_{false};
};

}  // namespace rally::gateway::edge
