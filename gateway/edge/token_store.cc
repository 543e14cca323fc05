#include "gateway/edge/token_store.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/transaction>
#include <stdexcept>
#include <utility>

#include "gateway/edge/rate_limit_classes.h"
#include "migrations/rally_gateway.h"
#include "services/common/digest.h"
#include "services/common/migrations.h"
#include "services/common/pg_pool.h"

namespace rally::gateway::edge {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;
using Clock = std::chrono::system_clock;

// The migrations' name in public.schema_migrations.
constexpr std::string_view kMigrationsName = "gateway";
constexpr std::string_view kIdPrefix = "tok_";
constexpr std::string_view kTokenPrefix = "rally_";
constexpr std::size_t kMaxNameLength = 64;
constexpr std::uint32_t kMaxRateLimit = 1000000;
constexpr std::size_t kMinImportedTokenLength = 16;
constexpr std::size_t kMaxImportedTokenLength = 256;
// Tries of create() when a fresh id or token collides with a stored one (2^-64 and 2^-256 chances).
constexpr int kCreateAttempts = 3;

// Times travel as microseconds since the epoch: exact both ways, and independent of the session's TimeZone.
constexpr std::string_view kRecordColumns =
    "id, name, scope, rate_limits::text, (extract(epoch FROM created_at) * 1000000)::int8, "
    "(extract(epoch FROM last_used_at) * 1000000)::int8, (extract(epoch FROM revoked_at) * 1000000)::int8";

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return common::hex_digits(buffer.data(), buffer.size());
}

std::string set_statement_timeout(std::chrono::milliseconds timeout) {
  return "SET LOCAL statement_timeout = " + std::to_string(timeout.count());
}

Clock::time_point from_micros(std::int64_t micros) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(micros)));
}

std::int64_t to_micros(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

std::optional<Clock::time_point> optional_time(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return from_micros(field.as<std::int64_t>());
}

// The column's CHECK admits only the three names.
Scope stored_scope(const pqxx::field& field) {
  const auto scope = parse_scope(field.as<std::string>());
  if (!scope) throw std::logic_error("gateway.api_tokens holds an unknown scope: " + field.as<std::string>());
  return *scope;
}

// The column's CHECK makes it an object; entries that are not counts in range are skipped, not trusted.
RateLimits stored_rate_limits(const pqxx::field& field) {
  RateLimits limits;
  const json::value parsed = json::parse(field.as<std::string>());
  for (const auto& [route_class, value] : parsed.as_object()) {
    if (const auto count = value.if_int64(); count && *count >= 0 && *count <= kMaxRateLimit) {
      limits.emplace(std::string(route_class), static_cast<std::uint32_t>(*count));
    }
  }
  return limits;
}

std::string rate_limits_json(const RateLimits& limits) {
  json::object object;
  for (const auto& [route_class, limit] : limits) {
    object[route_class] = limit;
  }
  return json::serialize(object);
}

// A row selected with kRecordColumns.
TokenRecord stored_record(const pqxx::row& row) {
  TokenRecord record;
  record.id = row[0].as<std::string>();
  record.name = row[1].as<std::string>();
  record.scope = stored_scope(row[2]);
  record.rate_limits = stored_rate_limits(row[3]);
  record.created_at = from_micros(row[4].as<std::int64_t>());
  record.last_used_at = optional_time(row[5]);
  record.revoked_at = optional_time(row[6]);
  return record;
}

Error invalid(std::string_view field, std::string message) {
  return Error(ErrorCode::kInvalidRequest, std::move(message), {{"field", std::string(field)}});
}

// libpq messages span lines; only the first goes to the log.
std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

}  // namespace

std::optional<Error> check_token_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return invalid("name", "A token name must have 1 to 64 characters");
  }
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '.' || c == '_' || c == '-';
    if (!allowed) {
      return invalid("name", "A token name may contain only letters, digits, '.', '_' and '-'");
    }
  }
  if (name.starts_with(kIdPrefix)) {
    return invalid("name", "A token name must not start with \"tok_\", which token ids use");
  }
  return std::nullopt;
}

std::optional<Error> check_rate_limits(const RateLimits& limits) {
  for (const auto& [route_class, limit] : limits) {
    if (!is_rate_limit_class(route_class)) {
      std::string known;
      for (const std::string_view name : kRateLimitClasses) {
        known += (known.empty() ? "" : ", ") + std::string(name);
      }
      return Error(ErrorCode::kInvalidRequest, "Unknown rate-limit class; the classes are " + known,
                   {{"field", "rate_limits"}, {"class", route_class}});
    }
    if (limit > kMaxRateLimit) {
      return Error(ErrorCode::kInvalidRequest,
                   "A rate limit must be 0 (not limited) to 1000000 requests per window",
                   {{"field", "rate_limits"}, {"class", route_class}});
    }
  }
  return std::nullopt;
}

Result<Scope> parse_scope_list(std::string_view names) {
  std::optional<Scope> highest;
  while (true) {
    const std::size_t comma = names.find(',');
    std::string_view name = names.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const std::optional<Scope> scope = parse_scope(name);
    if (!scope) {
      return Error(ErrorCode::kInvalidRequest, "Unknown scope; the scopes are read, write and admin",
                   {{"field", "scopes"}, {"scope", std::string(name)}});
    }
    if (!highest || !scope_allows(*highest, *scope)) highest = scope;
    if (comma == std::string_view::npos) break;
    names.remove_prefix(comma + 1);
  }
  return *highest;
}

std::vector<std::string_view> granted_scope_names(Scope scope) {
  std::vector<std::string_view> names;
  for (const Scope granted : {Scope::kRead, Scope::kWrite, Scope::kAdmin}) {
    if (scope_allows(scope, granted)) names.push_back(scope_name(granted));
  }
  return names;
}

bool is_token_id(std::string_view text) {
  return text.size() == kIdPrefix.size() + 16 && text.starts_with(kIdPrefix) &&
         std::all_of(text.begin() + kIdPrefix.size(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TokenStore::TokenStore(common::PgPool& pool, Settings settings) : pool_(pool), settings_(settings) {}

std::optional<Error> TokenStore::ensure_schema() {
  if (migrated_.load()) return std::nullopt;
  std::lock_guard lock(migrate_mutex_);
  if (migrated_.load()) return std::nullopt;
  try {
    const common::MigrationReport report = pool_.with_connection([](pqxx::connection& connection) {
      return common::apply_migrations(connection, kMigrationsName, gateway::migrations());
    });
    spdlog::info("gateway schema at version {} ({} migration(s) applied now)", report.current_version,
                 report.applied.size());
    migrated_.store(true);
    return std::nullopt;
  } catch (const common::MigrationError& e) {
    // A defect that retrying will not fix; said loudly once, not on every retry.
    if (!failing_.exchange(true)) spdlog::critical("gateway migrations failed: {}", e.what());
    return Error(ErrorCode::kInternal, "The gateway's database schema could not be updated");
  } catch (const std::exception& e) {
    note_failure("applying the gateway's migrations", e);
    return Error(ErrorCode::kDatabaseError, "PostgreSQL is unavailable");
  }
}

void TokenStore::note_success() {
  if (failing_.exchange(false)) spdlog::info("API token store: PostgreSQL answers again");
}

void TokenStore::note_failure(std::string_view what, const std::exception& e) {
  if (!failing_.exchange(true)) {
    spdlog::warn("API token store: {} failed: {}", what, first_line(e.what()));
  } else {
    spdlog::debug("API token store: {} failed: {}", what, first_line(e.what()));
  }
}

// Under the statement timeout, committing when `work` returns a value (an Error rolls back). Exceptions
// are kDatabaseError "<what> failed" to the caller; the cause goes to the log only.
template <typename T, typename Work>
Result<T> TokenStore::run(std::string_view what, Work&& work) {
  if (auto error = ensure_schema()) return *error;
  try {
    Result<T> result = pool_.with_connection([&](pqxx::connection& connection) -> Result<T> {
      pqxx::work transaction(connection);
      transaction.exec0(set_statement_timeout(settings_.statement_timeout));
      Result<T> outcome = work(transaction);
      if (outcome.ok()) transaction.commit();
      return outcome;
    });
    note_success();
    return result;
  } catch (const std::exception& e) {
    note_failure(what, e);
    return Error(ErrorCode::kDatabaseError, std::string(what) + " failed");
  }
}

Result<CreatedToken> TokenStore::create(std::string_view name, Scope scope, const RateLimits& rate_limits) {
  if (auto error = check_token_name(name)) return *error;
  if (auto error = check_rate_limits(rate_limits)) return *error;
  const std::string name_text(name);
  const std::string limits = rate_limits_json(rate_limits);
  return run<CreatedToken>("creating an API token", [&](pqxx::work& transaction) -> Result<CreatedToken> {
    for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
      CreatedToken created;
      created.raw_token = std::string(kTokenPrefix) + random_hex(32);
      const pqxx::result rows = transaction.exec_params(
          "INSERT INTO gateway.api_tokens (id, name, token_hash, scope, rate_limits) "
          "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING RETURNING " +
              std::string(kRecordColumns),
          std::string(kIdPrefix) + random_hex(8), name_text, common::sha256_hex(created.raw_token),
          std::string(scope_name(scope)), limits);
      if (!rows.empty()) {
        created.token = stored_record(rows[0]);
        return created;
      }
      if (!transaction.exec_params("SELECT 1 FROM gateway.api_tokens WHERE name = $1", name_text).empty()) {
        return Error(ErrorCode::kConflict, "A token with this name exists already", {{"name", name_text}});
      }
    }
    throw std::runtime_error("no unused token id after several random draws");
  });
}

Result<std::vector<TokenRecord>> TokenStore::list() {
  return run<std::vector<TokenRecord>>(
      "listing API tokens", [&](pqxx::work& transaction) -> Result<std::vector<TokenRecord>> {
        const pqxx::result rows = transaction.exec("SELECT " + std::string(kRecordColumns) +
                                                   " FROM gateway.api_tokens ORDER BY created_at, id");
        std::vector<TokenRecord> records;
        records.reserve(rows.size());
        for (const pqxx::row& row : rows) records.push_back(stored_record(row));
        return records;
      });
}

Result<TokenRecord> TokenStore::revoke(std::string_view id_or_name) {
  const std::string key(id_or_name);
  return run<TokenRecord>("revoking an API token", [&](pqxx::work& transaction) -> Result<TokenRecord> {
    // Names never look like ids (check_token_name), so at most one row matches.
    const pqxx::result rows = transaction.exec_params(
        "UPDATE gateway.api_tokens SET revoked_at = COALESCE(revoked_at, now()) "
        "WHERE id = $1 OR name = $1 RETURNING " +
            std::string(kRecordColumns),
        key);
    if (rows.empty()) {
      return Error(ErrorCode::kNotFound, "No API token has this id or name", {{"token", key}});
    }
    return stored_record(rows[0]);
  });
}

Result<std::vector<ActiveToken>> TokenStore::load_active() {
  return run<std::vector<ActiveToken>>(
      "loading API tokens", [&](pqxx::work& transaction) -> Result<std::vector<ActiveToken>> {
        const pqxx::result rows = transaction.exec(
            "SELECT id, name, token_hash, scope, rate_limits::text FROM gateway.api_tokens "
            "WHERE revoked_at IS NULL");
        std::vector<ActiveToken> tokens;
        tokens.reserve(rows.size());
        for (const pqxx::row& row : rows) {
          tokens.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                            stored_scope(row[3]), stored_rate_limits(row[4])});
        }
        return tokens;
      });
}

Result<std::size_t> TokenStore::touch_last_used(const std::map<std::string, Clock::time_point>& uses) {
  if (uses.empty()) return std::size_t{0};
  json::object batch;  // id -> microseconds since the epoch
  for (const auto& [id, used_at] : uses) {
    batch[id] = to_micros(used_at);
  }
  const std::string batch_json = json::serialize(batch);
  return run<std::size_t>("recording API token use", [&](pqxx::work& transaction) -> Result<std::size_t> {
    const pqxx::result result = transaction.exec_params0(
        "UPDATE gateway.api_tokens AS t "
        "SET last_used_at = GREATEST(t.last_used_at, "
        "timestamptz 'epoch' + u.value::int8 * interval '1 microsecond') "
        "FROM jsonb_each_text($1::jsonb) AS u WHERE t.id = u.key",
        batch_json);
    return static_cast<std::size_t>(result.affected_rows());
  });
}

Result<ImportedToken> TokenStore::import(std::string_view name, Scope scope, std::string_view raw_token) {
  if (auto error = check_token_name(name)) return *error;
  const bool printable =
      std::all_of(raw_token.begin(), raw_token.end(), [](char c) { return c > ' ' && c < 127; });
  if (raw_token.size() < kMinImportedTokenLength || raw_token.size() > kMaxImportedTokenLength ||
      !printable) {
    return invalid("token", "A token must have 16 to 256 printable ASCII characters without spaces");
  }
  const std::string name_text(name);
  const std::string hash = common::sha256_hex(raw_token);
  const std::string scope_text(scope_name(scope));

  // The answer when a token with this name or hash is stored already; nullopt when none is.
  const auto existing = [&](pqxx::work& transaction) -> std::optional<Result<ImportedToken>> {
    const pqxx::result rows = transaction.exec_params(
        "SELECT name, token_hash, scope, id, revoked_at IS NOT NULL FROM gateway.api_tokens "
        "WHERE name = $1 OR token_hash = $2",
        name_text, hash);
    if (rows.empty()) return std::nullopt;
    const pqxx::row& row = rows[0];
    if (row[0].as<std::string>() == name_text && row[1].as<std::string>() == hash &&
        row[2].as<std::string>() == scope_text) {
      return ImportedToken{row[3].as<std::string>(), false, row[4].as<bool>()};
    }
    if (row[0].as<std::string>() != name_text) {
      return Error(ErrorCode::kConflict, "This token is stored under another name", {{"name", name_text}});
    }
    return Error(ErrorCode::kConflict,
                 row[1].as<std::string>() == hash ? "A token with this name exists with another scope"
                                                  : "A different token with this name exists already",
                 {{"name", name_text}});
  };

  return run<ImportedToken>("importing an API token", [&](pqxx::work& transaction) -> Result<ImportedToken> {
    if (auto answer = existing(transaction)) return *answer;
    for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
      const pqxx::result rows = transaction.exec_params(
          "INSERT INTO gateway.api_tokens (id, name, token_hash, scope) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT DO NOTHING RETURNING id",
          std::string(kIdPrefix) + random_hex(8), name_text, hash, scope_text);
      if (!rows.empty()) return ImportedToken{rows[0][0].as<std::string>(), true, false};
      // A concurrent import of the same token, or (astronomically rarely) an id that is taken.
      if (auto answer = existing(transaction)) return *answer;
    }
    throw std::runtime_error("no unused token id after several random draws");
  });
}

}  // namespace rally::gateway::edge
