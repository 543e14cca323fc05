// GET /api.json, the simulator's models.dev: the pure parts (HTTP dates, entity tags, RFC 9110's
// conditional evaluation), the engine's answers, faults and request log, and a 304's framing on the wire.
#include "services/llm-proxy/simulator/models_dev_document.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "services/llm-proxy/simulator/simulator_engine.h"
#include "services/llm-proxy/simulator/simulator_server.h"
#include "services/llm-proxy/simulator/simulator_settings.h"
#include "tests/support/temporary_directory.h"
#include "tests/unit/llm-proxy/simulator/raw_http_client.h"

namespace sim = rally::llm_simulator;
namespace json = boost::json;
using rally::testing::TemporaryDirectory;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example.
const sys_seconds kExampleTime{seconds(784111777)};
const auto kNow = std::chrono::system_clock::time_point(seconds(1'800'000'000));  // 2027-01-15

constexpr const char* kDocument = R"({"openai": {"id": "openai", "models": {"gpt-4o": {"id": "gpt-4o"}}}})";

void write_file(const std::string& path, std::string_view contents, sys_seconds modified) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  std::filesystem::last_write_time(path, std::chrono::file_clock::from_sys(modified));
}

std::string header(const sim::Exchange& exchange, std::string_view name) {
  for (const auto& [key, value] : exchange.headers) {
    if (key == name) return value;
  }
  return {};
}

sim::HttpRequest get_api_json(std::vector<std::pair<std::string, std::string>> headers = {}) {
  return {"GET", "/api.json", std::move(headers), ""};
}

sim::Exchange arm(sim::SimulatorEngine& engine, std::string fault_json) {
  return engine.handle({"POST", "/_sim/faults", {}, std::move(fault_json)}, kNow);
}

// An engine serving kDocument from a file last modified at kExampleTime.
struct ServedDocument {
  TemporaryDirectory directory{"rally-models-dev-"};
  std::string path = directory.file("api.json");
  sim::SimulatorSettings settings;

  ServedDocument() {
    write_file(path, kDocument, kExampleTime);
    settings.models_dev_file = path;
  }
};

}  // namespace

TEST_CASE("HTTP dates: IMF-fixdate out, all three formats in") {
  CHECK(sim::format_http_date(kExampleTime) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(sim::format_http_date(sys_seconds(seconds(0))) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(sim::format_http_date(sys_seconds(seconds(951782400))) == "Tue, 29 Feb 2000 00:00:00 GMT");

  CHECK(sim::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", kNow) == kExampleTime);
  CHECK(sim::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow) == kExampleTime);
  CHECK(sim::parse_http_date("Sun Nov  6 08:49:37 1994", kNow) == kExampleTime);
  CHECK(sim::parse_http_date("Sun Nov 16 08:49:37 1994", kNow) == kExampleTime + std::chrono::days(10));

  for (std::int64_t t = 0; t < 4'000'000'000; t += 86'399 * 37 + 1234) {
    INFO(t);
    const sys_seconds time{seconds(t)};
    CHECK(sim::parse_http_date(sim::format_http_date(time), kNow) == time);
  }
}

TEST_CASE("HTTP dates: an RFC 850 year more than 50 years ahead is the previous century's") {
  // kNow is in 2027: "76" is 2076 (49 years ahead), "78" is 1978 (2078 would be 51 years ahead).
  const auto year_of = [](std::string_view text) {
    const auto time = sim::parse_http_date(text, kNow);
    REQUIRE(time);
    return static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(*time)).year());
  };
  CHECK(year_of("Thursday, 01-Jan-76 00:00:00 GMT") == 2076);
  CHECK(year_of("Thursday, 01-Jan-78 00:00:00 GMT") == 1978);
  CHECK(year_of("Friday, 15-Jan-27 00:00:00 GMT") == 2027);
}

TEST_CASE("HTTP dates: anything else is not a date") {
  for (const char* text :
       {"", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 1994 GMT", "1994-11-06T08:49:37Z", "784111777"}) {
    INFO(text);
    CHECK_FALSE(sim::parse_http_date(text, kNow));
  }
}

TEST_CASE("entity tags: strong tags are quoted hashes of the bytes") {
  // SHA-256 of nothing starts e3b0c442...
  CHECK(sim::strong_etag("") == "\"e3b0c44298fc1c149afbf4c8996fb924\"");
  CHECK(sim::strong_etag(kDocument) == sim::strong_etag(std::string(kDocument)));
  CHECK(sim::strong_etag(kDocument) != sim::strong_etag(std::string(kDocument) + " "));
  CHECK(sim::strong_etag(kDocument).size() == 34);
}

TEST_CASE("If-None-Match: lists, weak comparison, the wildcard and malformed members") {
  const std::string tag = "\"abc\"";
  CHECK(sim::if_none_match_matches("\"abc\"", tag));
  CHECK(sim::if_none_match_matches("W/\"abc\"", tag));
  CHECK(sim::if_none_match_matches("\"abc\"", "W/\"abc\""));
  CHECK(sim::if_none_match_matches("\"x\", \"abc\"", tag));
  CHECK(sim::if_none_match_matches("\"x\",W/\"abc\" , \"y\"", tag));
  CHECK(sim::if_none_match_matches("*", tag));
  CHECK(sim::if_none_match_matches("\"a,b\", \"abc\"", tag));  // a comma inside a tag is part of it
  CHECK(sim::if_none_match_matches("junk, \"abc\"", tag));     // a malformed member matches nothing

  CHECK_FALSE(sim::if_none_match_matches("", tag));
  CHECK_FALSE(sim::if_none_match_matches("\"abcd\"", tag));
  CHECK_FALSE(sim::if_none_match_matches("abc", tag));
  CHECK_FALSE(sim::if_none_match_matches("\"ab\", \"c\"", tag));
  CHECK_FALSE(sim::if_none_match_matches("\"abc", tag));
  CHECK_FALSE(sim::if_none_match_matches("\"a,b\"", "\"a\""));
}

TEST_CASE("conditional GET: If-None-Match decides alone, else If-Modified-Since") {
  sim::ModelsDevDocument document;
  document.etag = "\"abc\"";
  document.last_modified = kExampleTime;
  const std::string at = sim::format_http_date(kExampleTime);
  const std::string before = sim::format_http_date(kExampleTime - seconds(1));
  const std::string after = sim::format_http_date(kExampleTime + seconds(1));

  CHECK_FALSE(sim::is_not_modified(document, std::nullopt, std::nullopt, kNow));
  CHECK(sim::is_not_modified(document, "\"abc\"", std::nullopt, kNow));
  CHECK_FALSE(sim::is_not_modified(document, "\"old\"", std::nullopt, kNow));
  // With If-None-Match present, If-Modified-Since is ignored (RFC 9110 13.1.3) either way.
  CHECK_FALSE(sim::is_not_modified(document, "\"old\"", after, kNow));
  CHECK(sim::is_not_modified(document, "\"abc\"", before, kNow));

  CHECK(sim::is_not_modified(document, std::nullopt, at, kNow));
  CHECK(sim::is_not_modified(document, std::nullopt, after, kNow));
  CHECK_FALSE(sim::is_not_modified(document, std::nullopt, before, kNow));
  CHECK_FALSE(sim::is_not_modified(document, std::nullopt, "yesterday", kNow));
  CHECK_FALSE(sim::is_not_modified(document, std::nullopt, at + ", " + at, kNow));
}

TEST_CASE("models.dev document: read from the file, Last-Modified never in the future") {
  ServedDocument served;
  auto document = sim::load_models_dev_document(served.path, kNow);
  REQUIRE(document);
  CHECK(document->bytes == kDocument);
  CHECK(document->etag == sim::strong_etag(kDocument));
  CHECK(document->last_modified == kExampleTime);

  write_file(served.path, kDocument, std::chrono::floor<seconds>(kNow) + std::chrono::hours(1));
  CHECK(sim::load_models_dev_document(served.path, kNow)->last_modified == std::chrono::floor<seconds>(kNow));

  const auto missing = sim::load_models_dev_document(served.directory.file("missing.json"), kNow);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("missing.json"));
}

TEST_CASE("GET /api.json: off without a file, 200 with validators, 304 for a matching condition") {
  SECTION("off") {
    sim::SimulatorEngine engine(sim::SimulatorSettings{});
    const auto exchange = engine.handle(get_api_json(), kNow);
    CHECK(exchange.status == 404);
    CHECK_THAT(exchange.body, Catch::Contains("RALLY_SIMULATOR_MODELS_DEV_FILE"));
  }
  SECTION("served") {
    ServedDocument served;
    sim::SimulatorEngine engine(served.settings);
    const auto full = engine.handle(get_api_json(), kNow);
    CHECK(full.status == 200);
    CHECK(full.body == kDocument);
    CHECK(header(full, "content-type") == "application/json");
    CHECK(header(full, "etag") == sim::strong_etag(kDocument));
    CHECK(header(full, "last-modified") == "Sun, 06 Nov 1994 08:49:37 GMT");

    const auto by_etag = engine.handle(get_api_json({{"if-none-match", header(full, "etag")}}), kNow);
    CHECK(by_etag.status == 304);
    CHECK(by_etag.body.empty());
    CHECK(header(by_etag, "etag") == header(full, "etag"));
    CHECK(header(by_etag, "last-modified") == header(full, "last-modified"));
    CHECK(header(by_etag, "content-type").empty());

    const auto by_date =
        engine.handle(get_api_json({{"if-modified-since", header(full, "last-modified")}}), kNow);
    CHECK(by_date.status == 304);
    // Two If-None-Match lines are one list.
    const auto split = engine.handle(
        get_api_json({{"if-none-match", "\"other\""}, {"if-none-match", header(full, "etag")}}), kNow);
    CHECK(split.status == 304);

    write_file(served.path, std::string(kDocument) + "\n", kExampleTime + seconds(60));
    const auto changed = engine.handle(get_api_json({{"if-none-match", header(full, "etag")}}), kNow);
    CHECK(changed.status == 200);
    CHECK(header(changed, "etag") != header(full, "etag"));
    CHECK(engine.handle(get_api_json({{"if-modified-since", header(full, "last-modified")}}), kNow).status ==
          200);

    const auto post = engine.handle({"POST", "/api.json", {}, "{}"}, kNow);
    CHECK(post.status == 405);
    CHECK(header(post, "allow") == "GET");
  }
}

TEST_CASE("GET /api.json: requests are logged with their conditional headers") {
  ServedDocument served;
  sim::SimulatorEngine engine(served.settings);
  const auto full = engine.handle(get_api_json(), kNow);
  const auto conditional = engine.handle(get_api_json({{"if-none-match", header(full, "etag")}}), kNow);
  CHECK(header(conditional, "x-sim-request-id") == std::to_string(conditional.log_id));

  const auto records = engine.request_log().snapshot();
  REQUIRE(records.size() == 2);
  CHECK(records[0].path == "/api.json");
  CHECK(records[0].method == "GET");
  CHECK(records[0].status == 200);
  CHECK(records[1].status == 304);
  REQUIRE(records[1].headers.size() == 1);
  CHECK(records[1].headers[0] == std::pair<std::string, std::string>{"if-none-match", header(full, "etag")});
}

TEST_CASE("GET /api.json: faults armed for its path, and only those, apply to it") {
  ServedDocument served;
  sim::SimulatorEngine engine(served.settings);

  CHECK(arm(engine, R"({"path": "/api.json", "model": "gpt-4o", "fault": {"status": 500}})").status == 400);
  CHECK(arm(engine, R"({"path": "/v2/other", "fault": {"status": 500}})").status == 400);
  CHECK(arm(engine, R"({"path": 7, "fault": {"status": 500}})").status == 400);

  // A fault without a path is for the completion endpoints.
  REQUIRE(arm(engine, R"({"fault": {"status": 500}})").status == 201);
  CHECK(engine.handle(get_api_json(), kNow).status == 200);
  CHECK(engine.faults().armed().size() == 1);
  engine.faults().clear();

  const auto armed =
      arm(engine, R"({"path": "/api.json", "count": 2, "fault": {"status": 503, "retry_after": 2}})");
  REQUIRE(armed.status == 201);
  CHECK(json::parse(armed.body).at("path").as_string() == "/api.json");
  for (int i = 0; i < 2; ++i) {
    const auto failed = engine.handle(get_api_json(), kNow);
    CHECK(failed.status == 503);
    CHECK(header(failed, "retry-after") == "2");
    CHECK(failed.planned_outcome() == "fault:status");
  }
  CHECK(engine.handle(get_api_json(), kNow).status == 200);

  REQUIRE(arm(engine, R"({"path": "/api.json", "fault": {"stall_before_first_byte_ms": 1500}})").status ==
          201);
  const auto stalled = engine.handle(get_api_json(), kNow);
  CHECK(stalled.stall == std::chrono::milliseconds(1500));
  CHECK(stalled.status == 200);
  CHECK(stalled.body == kDocument);

  REQUIRE(arm(engine, R"({"path": "/api.json", "fault": {"drop_after_chunks": 0}})").status == 201);
  CHECK_FALSE(engine.handle(get_api_json(), kNow).respond);

  REQUIRE(arm(engine, R"({"path": "/api.json", "fault": {"error_event_after_chunks": 0}})").status == 201);
  CHECK(engine.handle(get_api_json(), kNow).status == 500);

  // A cut body ignores the conditions: a 304 would have nothing to cut.
  REQUIRE(arm(engine, R"({"path": "/api.json", "fault": {"malformed_event_after_chunks": 0}})").status ==
          201);
  const auto cut = engine.handle(get_api_json({{"if-none-match", sim::strong_etag(kDocument)}}), kNow);
  CHECK(cut.status == 200);
  CHECK(cut.body == std::string(kDocument).substr(0, std::string_view(kDocument).size() / 2));
}

TEST_CASE("faults: a path narrows a fault to one completion endpoint") {
  sim::SimulatorEngine engine(sim::SimulatorSettings{});
  REQUIRE(arm(engine, R"({"path": "/v1/messages", "fault": {"status": 529}})").status == 201);
  const auto chat = engine.handle({"POST",
                                   "/v1/chat/completions",
                                   {{"authorization", "Bearer sk-test"}},
                                   R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]})"},
                                  kNow);
  CHECK(chat.status == 200);
  const auto messages = engine.handle(
      {"POST",
       "/v1/messages",
       {{"x-api-key", "sk-ant-test"}, {"anthropic-version", "2023-06-01"}},
       R"({"model": "claude-3-5-haiku-latest", "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]})"},
      kNow);
  CHECK(messages.status == 529);
}

TEST_CASE("models.dev settings: an unreadable file is a configuration error naming the key") {
  using rally::common::ConfigSource;
  const auto config =
      ConfigSource::from_values({}, {{"RALLY_SIMULATOR_MODELS_DEV_FILE", "/nonexistent/api.json"}});
  try {
    sim::SimulatorSettings::from(config);
    FAIL("no configuration error");
  } catch (const rally::common::ConfigError& e) {
    CHECK(e.key() == "RALLY_SIMULATOR_MODELS_DEV_FILE");
  }
}

TEST_CASE(
    "GET /api.json on the wire: a 304 has no body and no Content-Length, and the connection stays usable") {
  ServedDocument served;
  served.settings.listen = {"127.0.0.1", 0};
  sim::SimulatorServer server(served.settings);
  using rally::llm_simulator::testing::Connection;
  using rally::llm_simulator::testing::request_text;

  Connection connection(server.port());
  connection.send(request_text("GET", "/api.json"));
  const auto full = connection.read_response();
  CHECK(full.status == 200);
  CHECK(full.body == kDocument);

  connection.send(request_text("GET", "/api.json", {{"If-None-Match", full.header("etag")}}));
  const auto not_modified = connection.read_response();
  CHECK(not_modified.status == 304);
  CHECK(not_modified.header("content-length").empty());
  CHECK(not_modified.header("transfer-encoding").empty());
  CHECK(not_modified.header("etag") == full.header("etag"));

  // Nothing was left behind the 304: the next response on the connection parses.
  connection.send(request_text("GET", "/api.json"));
  CHECK(connection.read_response().body == kDocument);
  CHECK(connection.received().empty());
}
