// The scoring service's models.dev client and sync (services/scoring/sync/) against the real LLM simulator
// serving GET /api.json from a file the test writes: the snapshot with an ETag, 304s for conditional
// requests (seen in the simulator's request log), changed documents, Last-Modified alone, timeouts, an
// unreachable server, bad bodies, and refresh_now()'s single flight and rate limit. No assertion depends on
// timing: latencies are far on one side of the timeouts.
#include "services/scoring/sync/models_dev_sync.h"

#include <signal.h>

#include <barrier>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "services/scoring/domain/model_catalog.h"
#include "services/scoring/sync/models_dev_client.h"
#include "tests/integration/simulator_process.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/temporary_directory.h"
#include "tests/support/test_env.h"

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using rally::common::ErrorCode;
using rally::scoring::ModelCatalog;
using rally::scoring::ModelsDevClient;
using rally::scoring::ModelsDevOrigin;
using rally::scoring::ModelsDevSync;
using rally::scoring::ModelsDevSyncSettings;
using rally::scoring::ModelsDevValidators;
using rally::testing::ChildProcess;
using rally::testing::http_request;
using rally::testing::HttpResult;
using rally::testing::TemporaryDirectory;
using rally::testing::wait_until;

const std::string kSnapshotPath = RALLY_SOURCE_DIR "/deploy/data/models-dev-snapshot.json";

std::string read_snapshot() {
  std::ifstream in(kSnapshotPath, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A small document of one provider holding `model`.
std::string document_with(const std::string& model) {
  return json::serialize(json::object{
      {"testprovider", json::object{{"id", "testprovider"},
                                    {"models", json::object{{model, json::object{{"id", model}}}}}}}});
}

// The simulator serving the document the test writes (re-read on every request).
class ModelsDevServer {
 public:
  explicit ModelsDevServer(const std::string& document) {
    write(document);
    const std::string port_file = directory_.file("port");
    process_.emplace(
        std::vector<std::string>{RALLY_LLM_SIMULATOR_BIN},
        rally::testing::simulator_env(port_file, {{"RALLY_SIMULATOR_MODELS_DEV_FILE", document_path()}}),
        directory_.file("simulator.log"));
    port_ = rally::testing::wait_for_simulator_port(*process_, port_file);
  }

  // The simulator must drain and exit 0: under the sanitizer build a report fails the test here.
  ~ModelsDevServer() {
    const std::optional<int> status = process_->stop(SIGTERM, 15s);
    if (std::uncaught_exceptions() == 0) {
      INFO(process_->read_log());
      CHECK(status == std::optional<int>(0));
    }
  }

  // Replaces the document, optionally with a given modification time (Last-Modified has whole seconds, so
  // a test that relies on it sets the time).
  void write(const std::string& document,
             std::optional<std::chrono::system_clock::time_point> modified = std::nullopt) const {
    const std::string temporary = document_path() + ".tmp";
    std::ofstream(temporary, std::ios::binary | std::ios::trunc) << document;
    if (modified) {
      std::filesystem::last_write_time(temporary, std::chrono::file_clock::from_sys(*modified));
    }
    std::filesystem::rename(temporary, document_path());  // a request never reads half a document
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/api.json"; }

  // The simulator's log of GET /api.json requests, oldest first.
  json::array requests() const {
    const HttpResult result = http_request(port_, "GET", "/_sim/requests");
    REQUIRE(result.status == 200);
    const json::value log = json::parse(result.body);
    json::array requests;
    for (const json::value& entry : log.as_array()) {
      if (entry.at("path").as_string() == "/api.json") requests.push_back(entry);
    }
    return requests;
  }

  void arm(const std::string& fault) const {
    const HttpResult result = http_request(port_, "POST", "/_sim/faults", fault);
    INFO(result.body);
    REQUIRE(result.status == 201);
  }

  std::string log() const { return process_->read_log(); }

 private:
  std::string document_path() const { return directory_.file("api.json"); }

  TemporaryDirectory directory_{"rally-models-dev-"};
  std::optional<ChildProcess> process_;
  int port_ = 0;
};

std::string header_of(const json::value& request, const std::string& name) {
  const json::object& headers = request.at("headers").as_object();
  const json::value* value = headers.if_contains(name);
  return value == nullptr ? std::string() : std::string(value->as_string());
}

// The catalogs a sync delivered, for the test thread to inspect.
struct Deliveries {
  mutable std::mutex mutex;
  std::vector<std::pair<ModelCatalog, ModelsDevOrigin>> catalogs;

  ModelsDevSync::CatalogCallback callback() {
    return [this](ModelCatalog catalog, const ModelsDevOrigin& origin) {
      const std::lock_guard lock(mutex);
      catalogs.emplace_back(std::move(catalog), origin);
    };
  }
  std::size_t count() const {
    const std::lock_guard lock(mutex);
    return catalogs.size();
  }
  std::pair<ModelCatalog, ModelsDevOrigin> last() const {
    const std::lock_guard lock(mutex);
    REQUIRE_FALSE(catalogs.empty());
    return catalogs.back();
  }
};

// Syncing from `url` driven by the test through refresh_now() (no periodic sync unless started).
ModelsDevSyncSettings sync_settings(const std::string& url) {
  ModelsDevSyncSettings settings;
  settings.url = url;
  settings.timeout = 20s;  // far above any latency the test does not cause on purpose
  settings.sync_timeout = 20s;
  settings.min_refresh_interval = 0ms;
  return settings;
}

}  // namespace

TEST_CASE("models.dev client: the snapshot with an ETag, then 304 for a request carrying it") {
  const std::string snapshot = read_snapshot();
  ModelsDevServer server(snapshot);
  ModelsDevClient client(server.url());

  const auto first = client.fetch({}, 20s);
  INFO((first ? "" : first.error().message));
  REQUIRE(first);
  CHECK(first->modified);
  CHECK(first->body == snapshot);
  const auto expected = rally::scoring::parse_models_dev(snapshot);
  REQUIRE(expected);
  CHECK(first->catalog.models.size() == expected->models.size());
  CHECK(first->catalog.models.contains("openai/gpt-4o"));
  CHECK(first->catalog.source_commit == expected->source_commit);
  CHECK(first->validators.etag.starts_with('"'));
  CHECK(first->validators.etag.size() > 2);
  CHECK(first->validators.last_modified.ends_with(" GMT"));

  const auto second = client.fetch(first->validators, 20s);
  REQUIRE(second);
  CHECK_FALSE(second->modified);
  CHECK(second->catalog.models.empty());
  CHECK(second->validators == first->validators);

  const json::array requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(header_of(requests[0], "if-none-match").empty());
  CHECK(requests[0].at("status").as_int64() == 200);
  CHECK(header_of(requests[1], "if-none-match") == first->validators.etag);
  CHECK(header_of(requests[1], "if-modified-since") == first->validators.last_modified);
  CHECK(requests[1].at("status").as_int64() == 304);
}

TEST_CASE("models.dev client: a changed document is a new catalog with a new ETag") {
  ModelsDevServer server(document_with("model-one"));
  ModelsDevClient client(server.url());
  const auto first = client.fetch({}, 20s);
  REQUIRE(first);
  CHECK(first->catalog.models.contains("testprovider/model-one"));

  server.write(document_with("model-two"));
  const auto changed = client.fetch(first->validators, 20s);
  REQUIRE(changed);
  CHECK(changed->modified);
  CHECK(changed->catalog.models.contains("testprovider/model-two"));
  CHECK_FALSE(changed->catalog.models.contains("testprovider/model-one"));
  CHECK(changed->validators.etag != first->validators.etag);
  CHECK(header_of(server.requests().back(), "if-none-match") == first->validators.etag);
}

TEST_CASE("models.dev client: Last-Modified alone makes a conditional request") {
  const auto now = std::chrono::system_clock::now();
  ModelsDevServer server(document_with("model-one"));
  server.write(document_with("model-one"), now - 100s);
  ModelsDevClient client(server.url());
  const auto first = client.fetch({}, 20s);
  REQUIRE(first);
  const ModelsDevValidators date_only{"", first->validators.last_modified};

  const auto unchanged = client.fetch(date_only, 20s);
  REQUIRE(unchanged);
  CHECK_FALSE(unchanged->modified);
  const json::value request = server.requests().back();
  CHECK(header_of(request, "if-none-match").empty());
  CHECK(header_of(request, "if-modified-since") == first->validators.last_modified);
  CHECK(request.at("status").as_int64() == 304);

  server.write(document_with("model-two"), now - 50s);
  const auto changed = client.fetch(date_only, 20s);
  REQUIRE(changed);
  CHECK(changed->modified);
  CHECK(changed->catalog.models.contains("testprovider/model-two"));
  CHECK(changed->validators.last_modified != first->validators.last_modified);
}

TEST_CASE("models.dev client: a server slower than the timeout is API_TIMEOUT") {
  ModelsDevServer server(document_with("model-one"));
  // Stalls until the client gives up.
  server.arm(R"({"path": "/api.json", "fault": {"stall_before_first_byte_ms": 100000000000}})");
  ModelsDevClient client(server.url());
  const auto result = client.fetch({}, 300ms);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::kApiTimeout);
  CHECK_THAT(result.error().message, Catch::Contains("300 ms"));
}

TEST_CASE(
    "models.dev client: unreachable server, error status, oversized and malformed bodies are "
    "UPSTREAM_ERROR") {
  SECTION("nothing listens") {
    ModelsDevClient client("http://127.0.0.1:" + std::to_string(rally::testing::free_port()) + "/api.json");
    const auto result = client.fetch({}, 20s);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::kUpstreamError);
  }
  SECTION("a 503") {
    ModelsDevServer server(document_with("model-one"));
    server.arm(R"({"path": "/api.json", "fault": {"status": 503}})");
    const auto result = ModelsDevClient(server.url()).fetch({}, 20s);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::kUpstreamError);
    CHECK_THAT(result.error().message, Catch::Contains("503"));
  }
  SECTION("a body over the cap") {
    ModelsDevServer server(read_snapshot());
    const auto result = ModelsDevClient(server.url(), 64 * 1024).fetch({}, 20s);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::kUpstreamError);
  }
  SECTION("a body cut in half") {
    ModelsDevServer server(read_snapshot());
    server.arm(R"({"path": "/api.json", "fault": {"malformed_event_after_chunks": 0}})");
    const auto result = ModelsDevClient(server.url()).fetch({}, 20s);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::kUpstreamError);
  }
  SECTION("a document without models") {
    ModelsDevServer server("{}");
    const auto result = ModelsDevClient(server.url()).fetch({}, 20s);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::kUpstreamError);
  }
}

TEST_CASE("models.dev sync: the first sync at start delivers, the next one is a 304 without a callback") {
  ModelsDevServer server(read_snapshot());
  Deliveries deliveries;
  ModelsDevSyncSettings settings = sync_settings(server.url());
  settings.sync_interval = 100ms;
  ModelsDevSync sync(settings, deliveries.callback());
  CHECK(sync.status().fetches == 0);
  sync.start();

  REQUIRE(wait_until([&] { return sync.status().fetches >= 3; }, 60s));
  const auto status = sync.status();
  CHECK(status.catalogs_delivered == 1);
  CHECK(deliveries.count() == 1);
  CHECK_FALSE(status.last_error);
  CHECK(status.last_success);
  CHECK(status.last_delivery);

  const auto [catalog, origin] = deliveries.last();
  CHECK(catalog.models.contains("openai/gpt-4o"));
  CHECK(origin.url == server.url());
  CHECK(origin.etag == status.validators.etag);
  CHECK_FALSE(origin.last_modified.empty());
  CHECK(origin.fetched_at == *status.last_delivery);

  const json::array requests = server.requests();
  REQUIRE(requests.size() >= 3);
  CHECK(requests[0].at("status").as_int64() == 200);
  for (std::size_t i = 1; i < requests.size(); ++i) {
    INFO("request " << i);
    CHECK(header_of(requests[i], "if-none-match") == origin.etag);
    CHECK(requests[i].at("status").as_int64() == 304);
  }
}

TEST_CASE("models.dev sync: a malformed document is an error and the previous catalog stays") {
  ModelsDevServer server(document_with("model-one"));
  Deliveries deliveries;
  ModelsDevSync sync(sync_settings(server.url()), deliveries.callback());
  REQUIRE(sync.refresh_now().value());
  const ModelsDevValidators first = sync.status().validators;

  server.write("{\"testprovider\": {\"models\": ");
  const auto broken = sync.refresh_now();
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == ErrorCode::kUpstreamError);
  CHECK(deliveries.count() == 1);
  CHECK(sync.status().validators == first);
  REQUIRE(sync.status().last_error);
  CHECK(sync.status().last_error->code == ErrorCode::kUpstreamError);

  // Still asking about the last good document: an unchanged one is a 304.
  server.write(document_with("model-one"));
  CHECK(sync.refresh_now().value() == false);
  CHECK(header_of(server.requests().back(), "if-none-match") == first.etag);
  CHECK_FALSE(sync.status().last_error);

  server.write(document_with("model-two"));
  CHECK(sync.refresh_now().value() == true);
  CHECK(deliveries.count() == 2);
  CHECK(deliveries.last().first.models.contains("testprovider/model-two"));
}

TEST_CASE("models.dev sync: refresh_now past its timeout is API_TIMEOUT") {
  ModelsDevServer server(document_with("model-one"));
  server.arm(R"({"path": "/api.json", "fault": {"stall_before_first_byte_ms": 100000000000}})");
  Deliveries deliveries;
  ModelsDevSyncSettings settings = sync_settings(server.url());
  settings.timeout = 300ms;
  ModelsDevSync sync(settings, deliveries.callback());
  const auto result = sync.refresh_now();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::kApiTimeout);
  CHECK(deliveries.count() == 0);
}

TEST_CASE("models.dev sync: concurrent refresh_now calls share one fetch") {
  ModelsDevServer server(document_with("model-one"));
  // Long enough for every caller to arrive while the fetch is in flight, far below the timeout.
  server.arm(R"({"path": "/api.json", "fault": {"stall_before_first_byte_ms": 2000}})");
  Deliveries deliveries;
  ModelsDevSync sync(sync_settings(server.url()), deliveries.callback());

  constexpr int kCallers = 4;
  std::barrier start(kCallers);
  std::vector<std::optional<rally::common::Result<bool>>> results(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = sync.refresh_now();
    });
  }
  for (std::thread& caller : callers) caller.join();

  for (const auto& result : results) {
    REQUIRE(result);
    REQUIRE(*result);
    CHECK(result->value() == true);  // every caller learns that a new catalog arrived
  }
  CHECK(deliveries.count() == 1);
  CHECK(server.requests().size() == 1);
  CHECK(sync.status().fetches == 1);
}

TEST_CASE(
    "models.dev sync: within min_refresh_interval refresh_now answers the last outcome without fetching") {
  SECTION("a success") {
    ModelsDevServer server(document_with("model-one"));
    Deliveries deliveries;
    ModelsDevSyncSettings settings = sync_settings(server.url());
    settings.min_refresh_interval = 1h;
    ModelsDevSync sync(settings, deliveries.callback());
    CHECK(sync.refresh_now().value() == true);
    server.write(document_with("model-two"));
    for (int i = 0; i < 5; ++i) CHECK(sync.refresh_now().value() == true);
    CHECK(server.requests().size() == 1);
    CHECK(deliveries.count() == 1);
  }
  SECTION("a failure") {
    ModelsDevSyncSettings settings =
        sync_settings("http://127.0.0.1:" + std::to_string(rally::testing::free_port()) + "/api.json");
    settings.min_refresh_interval = 1h;
    Deliveries deliveries;
    ModelsDevSync sync(settings, deliveries.callback());
    for (int i = 0; i < 5; ++i) {
      const auto result = sync.refresh_now();
      REQUIRE_FALSE(result);
      CHECK(result.error().code == ErrorCode::kUpstreamError);
    }
    CHECK(sync.status().fetches == 1);
  }
}

TEST_CASE("models.dev sync: an empty URL disables it") {
  Deliveries deliveries;
  ModelsDevSyncSettings settings;
  settings.url = "";
  ModelsDevSync sync(settings, deliveries.callback());
  sync.start();
  const auto result = sync.refresh_now();
  REQUIRE(result);
  CHECK(result.value() == false);
  CHECK_FALSE(sync.status().enabled);
  CHECK(sync.status().fetches == 0);
}

TEST_CASE("models.dev sync: destruction ends a fetch in progress instead of waiting it out") {
  ModelsDevServer server(document_with("model-one"));
  server.arm(R"({"path": "/api.json", "fault": {"stall_before_first_byte_ms": 100000000000}})");
  {
    Deliveries deliveries;
    ModelsDevSyncSettings settings = sync_settings(server.url());
    settings.sync_timeout = 600s;
    ModelsDevSync sync(settings, deliveries.callback());
    sync.start();
    REQUIRE(wait_until([&] { return server.requests().size() == 1; }, 30s));
  }
  // The simulator saw the client hang up: the fetch was cancelled, not left to time out.
  REQUIRE(
      wait_until([&] { return server.requests().at(0).at("outcome").as_string() == "client_closed"; }, 30s));
}
