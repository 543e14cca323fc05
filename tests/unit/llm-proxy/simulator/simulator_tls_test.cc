// HTTPS on the simulator with a throwaway CA from generate_test_pki(): clients that trust the CA and ask
// for the right name get through, others fail the handshake; streams and hang-up detection work over TLS.
#include <stdlib.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "services/common/config.h"
#include "services/llm-proxy/simulator/simulator_engine.h"
#include "services/llm-proxy/simulator/simulator_server.h"
#include "services/llm-proxy/simulator/simulator_settings.h"
#include "services/llm-proxy/simulator/test_pki.h"
#include "tests/support/process.h"
#include "tests/support/temporary_directory.h"
#include "tests/unit/llm-proxy/simulator/raw_http_client.h"

namespace sim = rally::llm_simulator;
namespace json = boost::json;
using rally::common::ConfigError;
using rally::common::ConfigSource;
using rally::llm_simulator::testing::Connection;
using rally::llm_simulator::testing::Headers;
using rally::llm_simulator::testing::request_text;
using rally::llm_simulator::testing::split_events;
using std::chrono::milliseconds;

namespace {

using rally::testing::TemporaryDirectory;

const Headers kOpenAi = {{"Authorization", "Bearer sk-test"}};
constexpr const char* kStreamingChat =
    R"({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "Secure hello"}]})";

// A fresh directory under the system temporary directory, removed with its contents at the end.
sim::SimulatorSettings tls_settings(const sim::TestPki& pki) {
  // Through ConfigSource, as the binary reads them, so the PEM checks at start are exercised too.
  sim::SimulatorSettings settings = sim::SimulatorSettings::from(
      ConfigSource::from_values({}, {{"RALLY_SIMULATOR_ADDR", "127.0.0.1:0"},
                                     {"RALLY_SIMULATOR_TTFT", "0ms"},
                                     {"RALLY_SIMULATOR_TOKENS_PER_SECOND", "0"},
                                     {"RALLY_SIMULATOR_TLS_CERT", pki.server_certificate.string()},
                                     {"RALLY_SIMULATOR_TLS_KEY", pki.server_private_key.string()}}));
  REQUIRE(settings.tls());
  return settings;
}

std::string config_error_key(const ConfigSource::Values& env) {
  try {
    sim::SimulatorSettings::from(ConfigSource::from_values({}, env));
  } catch (const ConfigError& e) {
    return e.key();
  }
  return "no error";
}

}  // namespace

TEST_CASE("a client that trusts the test CA streams a completion over TLS") {
  TemporaryDirectory directory("rally-sim-tls-");
  const sim::TestPki pki = sim::generate_test_pki(directory.path());
  sim::SimulatorServer server(tls_settings(pki));
  CHECK(server.tls());

  for (const char* name : {"localhost", "127.0.0.1"}) {
    INFO(name);
    Connection connection(server.port(), pki.ca_certificate.string(), name);
    CHECK(connection.tls_version().starts_with("TLSv1."));
    connection.send(request_text("POST", "/v1/chat/completions", kOpenAi, kStreamingChat));
    const auto response = connection.read_response();
    CHECK(response.status == 200);
    CHECK(response.complete);
    CHECK(split_events(response.body).back() == "data: [DONE]");
    // Keep-alive works over TLS too.
    connection.send(request_text("GET", "/healthz"));
    CHECK(connection.read_response().body == "ok\n");
  }
}

TEST_CASE("TLS clients that should not trust the server fail the handshake") {
  TemporaryDirectory directory("rally-sim-tls-");
  const sim::TestPki pki = sim::generate_test_pki(directory.path() / "real");
  const sim::TestPki other = sim::generate_test_pki(directory.path() / "other");
  sim::SimulatorServer server(tls_settings(pki));

  CHECK_THROWS_WITH(Connection(server.port(), other.ca_certificate.string(), "localhost"),
                    Catch::Contains("certificate verify failed"));
  CHECK_THROWS_WITH(Connection(server.port(), pki.ca_certificate.string(), "api.openai.com"),
                    Catch::Contains("certificate verify failed"));

  // Plain HTTP to a TLS-only port gets no HTTP response.
  Connection plain(server.port());
  plain.send(request_text("GET", "/healthz"));
  plain.wait_for_close(milliseconds(3000));
  CHECK_FALSE(plain.received().starts_with("HTTP/1.1"));

  // The server survives all of that.
  Connection good(server.port(), pki.ca_certificate.string(), "localhost");
  good.send(request_text("GET", "/healthz"));
  CHECK(good.read_response().status == 200);
}

TEST_CASE("a hang-up during a stall is noticed over TLS") {
  TemporaryDirectory directory("rally-sim-tls-");
  const sim::TestPki pki = sim::generate_test_pki(directory.path());
  sim::SimulatorServer server(tls_settings(pki));
  Connection control(server.port(), pki.ca_certificate.string(), "localhost");
  control.send(
      request_text("POST", "/_sim/faults", {}, R"({"fault": {"stall_before_first_byte_ms": 600000}})"));
  REQUIRE(control.read_response().status == 201);

  auto connection = std::make_unique<Connection>(server.port(), pki.ca_certificate.string(), "localhost");
  connection->send(request_text("POST", "/v1/chat/completions", kOpenAi, kStreamingChat));
  const auto outcome = [&] {
    const auto records = server.engine().request_log().snapshot();
    return records.empty() ? std::string() : records.back().outcome;
  };
  REQUIRE(rally::testing::wait_until([&] { return outcome() == "in_progress"; }, milliseconds(2000)));
  connection->close();
  CHECK(rally::testing::wait_until([&] { return outcome() == "client_closed"; }, milliseconds(1000)));
}

TEST_CASE("TLS settings are checked at start, naming the key") {
  TemporaryDirectory directory("rally-sim-tls-");
  const sim::TestPki pki = sim::generate_test_pki(directory.path() / "a");
  const sim::TestPki other = sim::generate_test_pki(directory.path() / "b");
  const std::string cert = pki.server_certificate.string();
  const std::string key = pki.server_private_key.string();

  CHECK(config_error_key({{"RALLY_SIMULATOR_TLS_CERT", cert}}) == "RALLY_SIMULATOR_TLS_KEY");
  CHECK(config_error_key({{"RALLY_SIMULATOR_TLS_KEY", key}}) == "RALLY_SIMULATOR_TLS_CERT");
  CHECK(config_error_key({{"RALLY_SIMULATOR_TLS_CERT", cert},
                          {"RALLY_SIMULATOR_TLS_KEY", "/no/such/file"}}) == "RALLY_SIMULATOR_TLS_KEY");
  CHECK(config_error_key({{"RALLY_SIMULATOR_TLS_CERT", key}, {"RALLY_SIMULATOR_TLS_KEY", key}}) ==
        "RALLY_SIMULATOR_TLS_CERT");  // a key is not a certificate
  CHECK(config_error_key({{"RALLY_SIMULATOR_TLS_CERT", cert},
                          {"RALLY_SIMULATOR_TLS_KEY", other.server_private_key.string()}}) ==
        "RALLY_SIMULATOR_TLS_KEY");  // someone else's key

  // The generated files are what an HTTPS client needs: a CA, and a leaf for localhost and 127.0.0.1.
  std::ifstream ca(pki.ca_certificate);
  const std::string ca_text((std::istreambuf_iterator<char>(ca)), std::istreambuf_iterator<char>());
  CHECK(ca_text.starts_with("-----BEGIN CERTIFICATE-----"));
  CHECK((std::filesystem::status(pki.server_private_key).permissions() &
         std::filesystem::perms::others_read) == std::filesystem::perms::none);
}
