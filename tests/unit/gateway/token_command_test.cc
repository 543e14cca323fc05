// `rally-admin token ...` against a scratch database: what it prints, announces and exits with.
#include "gateway/admin/token_command.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gateway/edge/token_store.h"
#include "services/common/pg_pool.h"
#include "tests/support/temporary_directory.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/test_settings.h"

namespace rally::gateway::admin {
namespace {

using namespace std::chrono_literals;

struct CommandFixture {
  CommandFixture() : pool(gateway::testing::postgres_at(database.url())), store(pool, {}) {}

  // Runs `token <args>`, keeping what it printed.
  int run(const std::vector<std::string>& args) {
    out.str({});
    err.str({});
    return run_token_command(args, store, announce, out, err);
  }

  rally::testing::ScratchDatabase database;
  common::PgPool pool;
  edge::TokenStore store;
  std::vector<std::pair<std::string, std::string>> announced;  // (op, id)
  bool redis_down = false;
  Announce announce = [this](std::string_view op, std::string_view id) {
    if (redis_down) throw std::runtime_error("Redis at 127.0.0.1:1 refused the connection");
    announced.emplace_back(op, id);
  };
  std::ostringstream out;
  std::ostringstream err;
};

TEST_CASE("token create prints the raw token alone on stdout and announces it", "[token_command]") {
  CommandFixture fixture;
  REQUIRE(fixture.run({"create", "--name", "ci", "--scopes", "read,write", "--rate-limit", "llm=5",
                       "--rate-limit=vote=0"}) == kExitOk);
  const std::string raw = fixture.out.str();
  CHECK(raw.starts_with("rally_"));
  CHECK(raw.size() == 6 + 64 + 1);  // and a newline
  CHECK(fixture.err.str().find("shown only this once") != std::string::npos);

  const auto tokens = fixture.store.list();
  REQUIRE(tokens->size() == 1);
  CHECK(tokens->front().scope == edge::Scope::kWrite);
  CHECK(tokens->front().rate_limits == edge::RateLimits{{"llm", 5}, {"vote", 0}});
  REQUIRE(fixture.announced.size() == 1);
  CHECK(fixture.announced[0] == std::pair<std::string, std::string>{"created", tokens->front().id});

  CHECK(fixture.run({"create", "--name", "ci", "--scopes", "read"}) == kExitFailed);
  CHECK(fixture.err.str().find("exists already") != std::string::npos);
}

TEST_CASE("token list and revoke by id or name", "[token_command]") {
  CommandFixture fixture;
  REQUIRE(fixture.run({"create", "--name", "first", "--scopes", "admin"}) == kExitOk);
  REQUIRE(fixture.run({"create", "--name", "second", "--scopes", "read"}) == kExitOk);
  const std::string first_id = fixture.store.list()->front().id;

  REQUIRE(fixture.run({"revoke", first_id}) == kExitOk);
  CHECK(fixture.out.str().find("Revoked API token " + first_id) != std::string::npos);
  REQUIRE(fixture.run({"revoke", "second"}) == kExitOk);
  CHECK(fixture.announced.back().first == "revoked");
  CHECK(fixture.run({"revoke", "nobody"}) == kExitFailed);
  CHECK(fixture.err.str().find("No API token") != std::string::npos);

  REQUIRE(fixture.run({"list"}) == kExitOk);
  const std::string table = fixture.out.str();
  CHECK(table.starts_with("ID "));
  CHECK(table.find(first_id) != std::string::npos);
  CHECK(table.find("revoked") != std::string::npos);
  CHECK(table.find("rally_") == std::string::npos);
}

TEST_CASE("token import is idempotent", "[token_command]") {
  CommandFixture fixture;
  rally::testing::TemporaryDirectory directory;
  const std::string path = directory.file("admin.token");
  std::ofstream(path) << "rally_0123456789abcdef0123456789abcdef\n";

  const std::vector<std::string> import = {"import", "--name", "local-admin", "--scope",
                                           "admin",  "--file", path};
  REQUIRE(fixture.run(import) == kExitOk);
  CHECK(fixture.out.str().find("Imported") != std::string::npos);
  REQUIRE(fixture.run(import) == kExitOk);
  CHECK(fixture.out.str().find("nothing changed") != std::string::npos);
  CHECK(fixture.announced.size() == 1);

  REQUIRE(fixture.run({"revoke", "local-admin"}) == kExitOk);
  CHECK(fixture.run(import) == kExitFailed);
  CHECK(fixture.err.str().find("was revoked") != std::string::npos);

  CHECK(fixture.run({"import", "--name", "x", "--scope", "admin", "--file", directory.file("missing")}) ==
        kExitFailed);
}

TEST_CASE("token commands refuse bad usage before touching the store", "[token_command]") {
  CommandFixture fixture;
  for (const std::vector<std::string>& bad : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"create", "--name", "ci"},
           {"create", "--name", "ci", "--scopes", "root"},
           {"create", "--name", "ci", "--scopes", "read", "--rate-limit", "llm"},
           {"create", "--name", "ci", "--scopes", "read", "--rate-limit", "llm=x"},
           {"create", "--name", "ci", "--scopes", "read", "--rate-limit", "llm=1", "--rate-limit", "llm=2"},
           {"create", "--name", "ci", "--name", "cd", "--scopes", "read"},
           {"create", "--name", "ci", "--scopes", "read", "--colour", "blue"},
           {"create", "--name"},
           {"list", "extra"},
           {"revoke"},
           {"import", "--name", "x", "--scope", "admin"},
           {"import", "--name", "x", "--scope", "root", "--file", "/dev/null"},
       }) {
    CAPTURE(bad);
    CHECK(fixture.run(bad) == kExitUsage);
    CHECK(fixture.err.str().find("usage: rally-admin token") != std::string::npos);
  }
  CHECK(fixture.store.list()->empty());
}

TEST_CASE("a change that cannot be announced is made, with a warning", "[token_command]") {
  CommandFixture fixture;
  fixture.redis_down = true;
  REQUIRE(fixture.run({"create", "--name", "ci", "--scopes", "read"}) == kExitOk);
  CHECK(fixture.err.str().find("warning: running gateways were not told") != std::string::npos);
  CHECK(fixture.store.list()->size() == 1);
}

TEST_CASE("an unreachable PostgreSQL fails the command and says where to look", "[token_command]") {
  CommandFixture fixture;
  common::PgPool down(gateway::testing::postgres_at(
      "postgresql://rally@127.0.0.1:" + std::to_string(rally::testing::free_port()) + "/rally"));
  edge::TokenStore store(down, {});
  std::ostringstream out;
  std::ostringstream err;
  CHECK(run_token_command({"list"}, store, fixture.announce, out, err) == kExitFailed);
  CHECK(err.str().find("RALLY_PG_URL") != std::string::npos);
}

}  // namespace
}  // namespace rally::gateway::admin
