// The admin token routes in the assembled gateway (real server, admission, PostgreSQL and Redis), spoken to
// over real sockets, and the gateway's start without PostgreSQL.
#include "gateway/routes/token_routes.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "gateway/edge/token_store.h"
#include "gateway/gateway.h"
#include "gateway/gateway_settings.h"
#include "services/common/digest.h"
#include "services/common/metrics.h"
#include "services/common/pg_pool.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/test_connection.h"
#include "tests/unit/gateway/test_settings.h"

namespace rally::gateway {
namespace {

using namespace std::chrono_literals;
using testing::ClientResponse;
using testing::TestConnection;

constexpr std::string_view kAdminToken = "rally_00112233445566778899aabbccddeeff";
constexpr std::string_view kTokens = "/api/v1/admin/tokens";

GatewaySettings test_settings(std::string postgres_url) {
  GatewaySettings settings = testing::offline_gateway_settings();
  settings.redis = testing::test_redis();
  settings.postgres = testing::postgres_at(std::move(postgres_url));
  settings.tokens.retry = 100ms;
  return settings;
}

std::vector<std::pair<std::string, std::string>> bearer(std::string_view token) {
  return {{"Authorization", "Bearer " + std::string(token)}};
}

boost::json::object json_of(const ClientResponse& response) {
  return boost::json::parse(response.body).as_object();
}

void check_success(const ClientResponse& response, int status) {
  CHECK(response.status == status);
  CHECK(response.header("content-type") == "application/json");
  const auto envelope = json_of(response);
  CHECK(envelope.at("success").as_bool());
  CHECK(envelope.at("metadata").at("request_id").as_string() == response.header("x-request-id"));
  CHECK(envelope.at("metadata").at("timestamp").is_string());
  CHECK(envelope.at("metadata").at("processing_time_ms").is_number());
}

std::string error_code_of(const ClientResponse& response) {
  return std::string(json_of(response).at("error").at("code").as_string());
}

// The admin token of `./rally up`, imported the way it does.
void import_admin_token(const std::string& url) {
  common::PgPool pool(testing::postgres_at(url));
  edge::TokenStore store(pool, {});
  REQUIRE(store.import("local-admin", edge::Scope::kAdmin, kAdminToken).ok());
}

TEST_CASE("admins create, list and revoke tokens over REST, effective at once", "[token_routes]") {
  rally::testing::ScratchDatabase database;
  import_admin_token(database.url());
  Gateway gateway(test_settings(database.url()), common::metrics::Registry::global());
  TestConnection connection(gateway.port());

  // The tokens load in the background; until then token routes answer 503.
  ClientResponse listed;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    listed = connection.request("GET", std::string(kTokens), {}, bearer(kAdminToken));
    if (listed.status != 503) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  check_success(listed, 200);
  REQUIRE(json_of(listed).at("data").as_array().size() == 1);
  CHECK(json_of(listed).at("data").at(0).at("name").as_string() == "local-admin");

  const ClientResponse created = connection.request(
      "POST", std::string(kTokens), R"({"name":"ci","scopes":["read","write"],"rate_limits":{"llm":5}})",
      bearer(kAdminToken));
  check_success(created, 201);
  const auto token = json_of(created).at("data").as_object();
  const std::string raw(token.at("token").as_string());
  const std::string id(token.at("id").as_string());
  CHECK(raw.starts_with("rally_"));
  CHECK(token.at("scope").as_string() == "write");
  CHECK(token.at("rate_limits").at("llm").as_int64() == 5);
  CHECK(token.at("active").as_bool());

  // Known at once: a write token is refused the admin routes (403), not unknown (401).
  const ClientResponse as_writer = connection.request("GET", std::string(kTokens), {}, bearer(raw));
  CHECK(as_writer.status == 403);

  const ClientResponse all = connection.request("GET", std::string(kTokens), {}, bearer(kAdminToken));
  check_success(all, 200);
  CHECK(json_of(all).at("data").as_array().size() == 2);
  CHECK(all.body.find(raw) == std::string::npos);
  CHECK(all.body.find(common::sha256_hex(raw)) == std::string::npos);
  CHECK(all.body.find(common::sha256_hex(kAdminToken)) == std::string::npos);

  const ClientResponse revoked =
      connection.request("DELETE", std::string(kTokens) + "/" + id, {}, bearer(kAdminToken));
  check_success(revoked, 200);
  CHECK(json_of(revoked).at("data").at("active").as_bool() == false);
  CHECK(json_of(revoked).at("data").at("revoked_at").is_string());
  // Revoked at once: the token is unknown now.
  const ClientResponse after = connection.request("GET", std::string(kTokens), {}, bearer(raw));
  CHECK(after.status == 401);

  const ClientResponse unknown =
      connection.request("DELETE", std::string(kTokens) + "/tok_0000000000000000", {}, bearer(kAdminToken));
  CHECK(unknown.status == 404);
  CHECK(error_code_of(unknown) == "NOT_FOUND");

  const ClientResponse duplicate = connection.request("POST", std::string(kTokens),
                                                      R"({"name":"ci","scope":"read"})", bearer(kAdminToken));
  CHECK(duplicate.status == 409);
  CHECK(error_code_of(duplicate) == "CONFLICT");

  const ClientResponse bad = connection.request("POST", std::string(kTokens),
                                                R"({"name":"x","scopes":"root"})", bearer(kAdminToken));
  CHECK(bad.status == 400);
  CHECK(error_code_of(bad) == "INVALID_REQUEST");

  const ClientResponse anonymous = connection.request("GET", std::string(kTokens));
  CHECK(anonymous.status == 401);
}

TEST_CASE("without PostgreSQL the gateway still starts: seed routes serve, token routes answer 503",
          "[token_routes]") {
  Gateway gateway(
      test_settings("postgresql://rally@127.0.0.1:" + std::to_string(testing::unused_port()) + "/rally"),
      common::metrics::Registry::global());
  TestConnection connection(gateway.port());
  CHECK(connection.request("GET", "/healthz").status == 200);
  const ClientResponse tokens = connection.request("GET", std::string(kTokens), {}, bearer(kAdminToken));
  CHECK(tokens.status == 503);
  CHECK(error_code_of(tokens) == "SERVICE_UNAVAILABLE");
  const auto started = std::chrono::steady_clock::now();
  gateway.shutdown();
  CHECK(std::chrono::steady_clock::now() - started < 2s);
}

}  // namespace
}  // namespace rally::gateway
