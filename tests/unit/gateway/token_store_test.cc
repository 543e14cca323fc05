// TokenStore against real PostgreSQL: a scratch database that the store migrates itself on first use.
#include "gateway/edge/token_store.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>

#include "services/common/digest.h"
#include "services/common/pg_pool.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/test_settings.h"

namespace rally::gateway::edge {
namespace {

using gateway::testing::postgres_at;

using common::ErrorCode;
using namespace std::chrono_literals;

// A scratch database and a store on it.
struct StoreFixture {
  rally::testing::ScratchDatabase database;
  common::PgPool pool{postgres_at(database.url())};
  TokenStore store{pool, {}};

  pqxx::result query(const std::string& sql) {
    return pool.with_connection([&](pqxx::connection& connection) {
      pqxx::nontransaction transaction(connection);
      return transaction.exec(sql);
    });
  }
};

TEST_CASE("create answers the raw token once and stores only its hash", "[token_store]") {
  StoreFixture fixture;
  const auto created = fixture.store.create("ci", Scope::kWrite, {{"llm", 5}});
  REQUIRE(created.ok());
  const std::string& raw = created->raw_token;
  CHECK(raw.starts_with("rally_"));
  CHECK(raw.size() == 6 + 64);
  CHECK(is_token_id(created->token.id));
  CHECK(created->token.name == "ci");
  CHECK(created->token.scope == Scope::kWrite);
  CHECK(created->token.rate_limits == RateLimits{{"llm", 5}});
  CHECK(created->token.created_at > std::chrono::system_clock::now() - 1min);
  CHECK_FALSE(created->token.last_used_at);
  CHECK_FALSE(created->token.revoked());

  const pqxx::result rows =
      fixture.query("SELECT token_hash, row_to_json(t)::text FROM gateway.api_tokens t");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0][0].as<std::string>() == common::sha256_hex(raw));
  CHECK(rows[0][1].as<std::string>().find(raw.substr(6)) == std::string::npos);

  const auto second = fixture.store.create("other", Scope::kRead, {});
  REQUIRE(second.ok());
  CHECK(second->raw_token != raw);
  CHECK(second->token.id != created->token.id);
}

TEST_CASE("the store applies the gateway's migrations once, recorded as service gateway", "[token_store]") {
  StoreFixture fixture;
  CHECK_FALSE(fixture.store.ensure_schema());
  CHECK_FALSE(fixture.store.ensure_schema());
  const pqxx::result rows = fixture.query(
      "SELECT version, name FROM public.schema_migrations WHERE service = 'gateway' ORDER BY version");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][1].as<std::string>() == "0001_create_schema.sql");
  CHECK(rows[1][1].as<std::string>() == "0002_create_api_tokens.sql");

  // A second store (another gateway, rally-admin) finds them applied.
  TokenStore other(fixture.pool, {});
  CHECK(other.list().ok());
}

TEST_CASE("list shows every token oldest first, revoked ones too, never a hash", "[token_store]") {
  StoreFixture fixture;
  REQUIRE(fixture.store.list().ok());
  CHECK(fixture.store.list()->empty());
  const auto first = fixture.store.create("first", Scope::kRead, {});
  const auto second = fixture.store.create("second", Scope::kAdmin, {{"admin", 0}, {"read", 1000}});
  REQUIRE((first.ok() && second.ok()));
  REQUIRE(fixture.store.revoke("first").ok());

  const auto tokens = fixture.store.list();
  REQUIRE(tokens.ok());
  REQUIRE(tokens->size() == 2);
  CHECK(tokens.value()[0].id == first->token.id);
  CHECK(tokens.value()[0].revoked());
  CHECK(tokens.value()[1].id == second->token.id);
  CHECK(tokens.value()[1].scope == Scope::kAdmin);
  CHECK(tokens.value()[1].rate_limits == RateLimits{{"admin", 0}, {"read", 1000}});
  CHECK_FALSE(tokens.value()[1].revoked());
}

TEST_CASE("revoke takes an id or a name, stands, and leaves load_active", "[token_store]") {
  StoreFixture fixture;
  const auto by_id = fixture.store.create("by-id", Scope::kRead, {});
  const auto by_name = fixture.store.create("by-name", Scope::kWrite, {});
  const auto kept = fixture.store.create("kept", Scope::kAdmin, {});
  REQUIRE((by_id.ok() && by_name.ok() && kept.ok()));

  const auto revoked = fixture.store.revoke(by_id->token.id);
  REQUIRE(revoked.ok());
  CHECK(revoked->id == by_id->token.id);
  REQUIRE(revoked->revoked_at);
  const auto named = fixture.store.revoke("by-name");
  REQUIRE(named.ok());
  CHECK(named->id == by_name->token.id);
  CHECK(named->revoked());

  // Again: the same record, the first revocation time.
  const auto again = fixture.store.revoke(by_id->token.id);
  REQUIRE(again.ok());
  CHECK(again->revoked_at == revoked->revoked_at);

  const auto active = fixture.store.load_active();
  REQUIRE(active.ok());
  REQUIRE(active->size() == 1);
  CHECK(active.value()[0].id == kept->token.id);
  CHECK(active.value()[0].name == "kept");
  CHECK(active.value()[0].scope == Scope::kAdmin);
  CHECK(active.value()[0].token_hash == common::sha256_hex(kept->raw_token));

  for (const char* unknown : {"tok_0000000000000000", "nobody", ""}) {
    CAPTURE(unknown);
    const auto missing = fixture.store.revoke(unknown);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == ErrorCode::kNotFound);
  }
}

TEST_CASE("names are unique for good and checked, and so are scopes and limits", "[token_store]") {
  StoreFixture fixture;
  REQUIRE(fixture.store.create("ci", Scope::kRead, {}).ok());
  const auto duplicate = fixture.store.create("ci", Scope::kAdmin, {});
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.error().code == ErrorCode::kConflict);
  REQUIRE(fixture.store.revoke("ci").ok());
  const auto after_revoke = fixture.store.create("ci", Scope::kRead, {});
  REQUIRE_FALSE(after_revoke.ok());
  CHECK(after_revoke.error().code == ErrorCode::kConflict);

  for (const std::string& bad :
       std::vector<std::string>{"", std::string(65, 'a'), "has space", "tok_abc", "semi;colon"}) {
    CAPTURE(bad);
    const auto refused = fixture.store.create(bad, Scope::kRead, {});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::kInvalidRequest);
  }
  for (const RateLimits& bad : {RateLimits{{"nonsense", 5}}, RateLimits{{"llm", 1000001}}}) {
    const auto refused = fixture.store.create("limited", Scope::kRead, bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::kInvalidRequest);
  }
  CHECK(fixture.query("SELECT 1 FROM gateway.api_tokens").size() == 1);
}

TEST_CASE("scope lists: the highest named scope wins", "[token_store]") {
  CHECK(parse_scope_list("read").value() == Scope::kRead);
  CHECK(parse_scope_list("read,write").value() == Scope::kWrite);
  CHECK(parse_scope_list("admin, read").value() == Scope::kAdmin);
  CHECK_FALSE(parse_scope_list("").ok());
  CHECK_FALSE(parse_scope_list("read,").ok());
  CHECK_FALSE(parse_scope_list("root").ok());
  CHECK(granted_scope_names(Scope::kWrite) == std::vector<std::string_view>{"read", "write"});
  CHECK(granted_scope_names(Scope::kAdmin).size() == 3);
  CHECK(is_token_id("tok_0123456789abcdef"));
  CHECK_FALSE(is_token_id("tok_0123456789ABCDEF"));
  CHECK_FALSE(is_token_id("tok_0123"));
}

TEST_CASE("import is idempotent and refuses to take over a name or a token", "[token_store]") {
  StoreFixture fixture;
  const std::string raw = "rally_0123456789abcdef0123456789abcdef";
  const auto imported = fixture.store.import("local-admin", Scope::kAdmin, raw);
  REQUIRE(imported.ok());
  CHECK(imported->created);
  CHECK(is_token_id(imported->id));

  const auto again = fixture.store.import("local-admin", Scope::kAdmin, raw);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->id == imported->id);
  CHECK(fixture.store.list()->size() == 1);

  const auto active = fixture.store.load_active();
  REQUIRE(active.ok());
  REQUIRE(active->size() == 1);
  CHECK(active.value()[0].token_hash == common::sha256_hex(raw));

  const auto other_token = fixture.store.import("local-admin", Scope::kAdmin, raw + "x");
  const auto other_name = fixture.store.import("someone", Scope::kAdmin, raw);
  const auto other_scope = fixture.store.import("local-admin", Scope::kRead, raw);
  for (const auto* refused : {&other_token, &other_name, &other_scope}) {
    REQUIRE_FALSE(refused->ok());
    CHECK(refused->error().code == ErrorCode::kConflict);
  }
  const auto short_token = fixture.store.import("short", Scope::kRead, "rally_123");
  REQUIRE_FALSE(short_token.ok());
  CHECK(short_token.error().code == ErrorCode::kInvalidRequest);

  // A revocation stands: importing the token again does not bring it back.
  REQUIRE(fixture.store.revoke("local-admin").ok());
  const auto revoked = fixture.store.import("local-admin", Scope::kAdmin, raw);
  REQUIRE(revoked.ok());
  CHECK_FALSE(revoked->created);
  CHECK(revoked->revoked);
  CHECK(fixture.store.load_active()->empty());
}

TEST_CASE("touch_last_used writes a batch and never moves a time back", "[token_store]") {
  StoreFixture fixture;
  const auto a = fixture.store.create("a", Scope::kRead, {});
  const auto b = fixture.store.create("b", Scope::kRead, {});
  REQUIRE((a.ok() && b.ok()));
  const auto now = std::chrono::system_clock::now();
  const auto earlier = now - 1h;

  const auto touched = fixture.store.touch_last_used(
      {{a->token.id, now}, {b->token.id, earlier}, {"tok_ffffffffffffffff", now}});
  REQUIRE(touched.ok());
  CHECK(touched.value() == 2);
  REQUIRE(fixture.store.touch_last_used({{a->token.id, earlier}}).ok());
  CHECK(fixture.store.touch_last_used({}).value() == 0);

  const auto tokens = fixture.store.list();
  REQUIRE(tokens.ok());
  const auto micros = [](std::chrono::system_clock::time_point time) {
    return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  };
  REQUIRE(tokens.value()[0].last_used_at);
  CHECK(micros(*tokens.value()[0].last_used_at) == micros(now));
  REQUIRE(tokens.value()[1].last_used_at);
  CHECK(micros(*tokens.value()[1].last_used_at) == micros(earlier));
}

TEST_CASE("an unreachable PostgreSQL is DATABASE_ERROR", "[token_store]") {
  common::PostgresSettings settings =
      postgres_at("postgresql://rally@127.0.0.1:" + std::to_string(rally::testing::free_port()) + "/rally");
  common::PgPool pool(settings);
  TokenStore store(pool, {});
  const auto created = store.create("ci", Scope::kRead, {});
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().code == ErrorCode::kDatabaseError);
  const auto listed = store.list();
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().code == ErrorCode::kDatabaseError);
  CHECK(store.ensure_schema()->code == ErrorCode::kDatabaseError);
}

}  // namespace
}  // namespace rally::gateway::edge
