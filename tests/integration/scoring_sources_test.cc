// Where the scoring service's inputs come from, end to end: the suite's catalog (llm-proxy ListModels),
// the llm-proxy's measurements and the arena's ratings feed the scheduled recalculation, which announces
// only scores that changed; WatchScores streams them to gRPC watchers. Real PostgreSQL, Redis, llm-proxy,
// arena, scoring service and gateway.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rally/v1/llm_proxy.grpc.pb.h"
#include "rally/v1/scoring.grpc.pb.h"
#include "services/common/redis_channels.h"
#include "services/common/redis_client.h"
#include "tests/integration/llm_stack.h"
#include "tests/support/http_client.h"
#include "tests/support/servers.h"

namespace rally::testing {
namespace {

// A WatchScores stream read on a thread of its own; updates are kept in arrival order.
class Watch {
 public:
  Watch(const std::string& scoring_address, std::vector<std::string> model_ids)
      : stub_(
            v1::Scoring::NewStub(grpc::CreateChannel(scoring_address, grpc::InsecureChannelCredentials()))) {
    for (std::string& id : model_ids) request_.add_model_ids(std::move(id));
    context_.set_deadline(std::chrono::system_clock::now() + 180s);  // a broken service fails, never hangs
    reader_ = stub_->WatchScores(&context_, request_);
    // The service sends its headers once the watch is registered: updates from now on reach it.
    reader_->WaitForInitialMetadata();
    thread_ = std::thread([this] {
      v1::ScoreUpdate update;
      while (reader_->Read(&update)) {
        std::lock_guard lock(mutex_);
        updates_.push_back(update);
      }
      status_ = reader_->Finish();
      ended_ = true;
    });
  }

  ~Watch() {
    context_.TryCancel();
    thread_.join();
  }

  std::vector<v1::ScoreUpdate> updates() const {
    std::lock_guard lock(mutex_);
    return updates_;
  }
  std::size_t count() const { return updates().size(); }
  bool ended() const { return ended_; }

 private:
  std::unique_ptr<v1::Scoring::Stub> stub_;
  grpc::ClientContext context_;
  v1::WatchScoresRequest request_;
  std::unique_ptr<grpc::ClientReader<v1::ScoreUpdate>> reader_;
  mutable std::mutex mutex_;
  std::vector<v1::ScoreUpdate> updates_;
  grpc::Status status_;
  std::atomic<bool> ended_{false};
  std::thread thread_;
};

std::vector<std::string> ids_of(const std::vector<v1::ScoreUpdate>& updates) {
  std::vector<std::string> ids;
  for (const v1::ScoreUpdate& update : updates) ids.push_back(update.score().model_id());
  return ids;
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

// The scoring service answers through the gateway once its migrations ran (these stacks run without auth).
void wait_for_scoring(const LlmStack& stack) {
  REQUIRE(wait_until(
      [&] {
        return http_request(stack.gateway_port(), "GET", "/api/v1/scoring/configuration").status == 200;
      },
      60s));
}

}  // namespace

TEST_CASE("WatchScores streams the updates a watcher asked for, by key, alias or all") {
  // A Redis of its own: tests running at the same time publish on the same channel names.
  RedisServer redis{free_port()};
  LlmStack stack(
      StackOptions{"10s",
                   {{"RALLY_GATEWAY_AUTH", "off"}, {"RALLY_REDIS_ADDR", redis.address().to_string()}},
                   false,
                   true});
  const std::string scoring = stack.env().at("RALLY_SCORING_ADDR");
  wait_for_scoring(stack);

  Watch by_alias(scoring, {"gpt-4o"});
  Watch by_key(scoring, {"anthropic/claude-opus-4-5-20251101"});
  Watch everything(scoring, {"*"});
  const auto calculate = [&](const std::string& id) {
    const HttpResult result =
        http_request(stack.gateway_port(), "POST", "/api/v1/models/" + id + "/score/calculate",
                     R"({"force_recalculation":true})", bearer(""));
    INFO(result.body);
    REQUIRE(result.status == 200);
  };
  calculate("claude-opus-4-5-20251101");  // a catalog name: announced under its key
  calculate("openai%2Fgpt-4o");           // a key: its slash encoded in the path
  calculate("gpt-4o");

  REQUIRE(wait_until([&] { return everything.count() == 3; }, 10s));
  CHECK(ids_of(everything.updates()) ==
        std::vector<std::string>{"anthropic/claude-opus-4-5-20251101", "openai/gpt-4o", "openai/gpt-4o"});
  REQUIRE(wait_until([&] { return by_alias.count() == 2; }, 10s));
  const std::vector<v1::ScoreUpdate> gpt = by_alias.updates();
  CHECK(ids_of(gpt) == std::vector<std::string>{"openai/gpt-4o", "openai/gpt-4o"});
  CHECK(gpt[1].previous_overall_score() == gpt[0].score().overall_score());
  REQUIRE(wait_until([&] { return by_key.count() == 1; }, 10s));
  CHECK(by_key.updates()[0].score().score_suffix().starts_with("(SC:"));
  // Nothing beyond what each asked for: the "*" watcher saw the last update, which came after all others.
  CHECK(by_alias.count() == 2);
  CHECK(by_key.count() == 1);
}

TEST_CASE("A watcher that stops reading is ended with RESOURCE_EXHAUSTED, the others keep their updates") {
  RedisServer redis{free_port()};  // of its own: other tests publish on the same channel
  LlmStack stack(StackOptions{"10s",
                              {{"RALLY_GATEWAY_AUTH", "off"},
                               {"RALLY_SCORING_WATCH_QUEUE", "8"},
                               {"RALLY_REDIS_ADDR", redis.address().to_string()}},
                              false,
                              true});
  const std::string scoring = stack.env().at("RALLY_SCORING_ADDR");
  wait_for_scoring(stack);

  // The stalled watcher: registered (its headers arrived), then never read until the end.
  // Its channel takes no more than gRPC's smallest window of unread data: no BDP probing to grow it.
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  auto stub = v1::Scoring::NewStub(
      grpc::CreateCustomChannel(scoring, grpc::InsecureChannelCredentials(), small_window));
  grpc::ClientContext stalled_context;
  stalled_context.set_deadline(std::chrono::system_clock::now() + 120s);
  v1::WatchScoresRequest all;
  all.add_model_ids("*");
  const std::unique_ptr<grpc::ClientReader<v1::ScoreUpdate>> stalled =
      stub->WatchScores(&stalled_context, all);
  stalled->WaitForInitialMetadata();
  Watch reading(scoring, {"*"});

  // Updates as the scoring service publishes them, large enough that a few fill gRPC's flow-control
  // windows: the stalled watcher's queue then grows past its bound. They go in small steps that a reading
  // watcher keeps up with (a burst of more than the bound would end any watcher).
  constexpr int kUpdates = 200;
  constexpr int kStep = 4;
  common::RedisSettings redis_settings;
  redis_settings.address = redis.address();
  common::RedisClient publisher(redis_settings);
  for (int i = 0; i < kUpdates; ++i) {
    v1::ScoreUpdate update;
    update.mutable_score()->set_model_id("test/model-" + std::to_string(i));
    update.mutable_score()->set_model_name(std::string(16 * 1024, 'x'));
    REQUIRE(publisher.publish(common::kScoreUpdatesChannel, update.SerializeAsString()) >= 1);
    if ((i + 1) % kStep == 0) {
      REQUIRE(wait_until([&] { return reading.count() == static_cast<std::size_t>(i + 1); }, 10s));
    }
  }

  REQUIRE(wait_until([&] { return reading.count() == kUpdates; }, 60s));
  CHECK(reading.updates().back().score().model_id() == "test/model-" + std::to_string(kUpdates - 1));
  CHECK_FALSE(reading.ended());

  // What the stalled watcher gets when it reads at last: what was in flight, then the end.
  int received = 0;
  v1::ScoreUpdate update;
  while (stalled->Read(&update)) ++received;
  const grpc::Status status = stalled->Finish();
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Catch::Contains("too slow"));
  CHECK(received < kUpdates);
}

TEST_CASE(
    "Scheduled recalculation scores the catalog, takes measurements and ratings, announces changes only") {
  LlmStack stack(StackOptions{"10s",
                              {{"RALLY_GATEWAY_AUTH", "off"},
                               {"RALLY_SCORING_RECALC_INTERVAL", "1s"},
                               {"RALLY_ARENA_PUBLISH_INTERVAL", "50ms"}},
                              true,
                              true});
  const int port = stack.gateway_port();
  const std::string scoring = stack.env().at("RALLY_SCORING_ADDR");
  const auto score_of = [&](const std::string& id) {
    return http_request(port, "GET", "/api/v1/models/" + id + "/score", {}, bearer(""));
  };

  // The suite's models are scored without anyone asking: the first round after the catalog was read.
  REQUIRE(wait_until(
      [&] { return score_of("claude-haiku-4-5-20251001").status == 200 && score_of("gpt-4o").status == 200; },
      60s));
  const json::value first = parse_json(score_of("gpt-4o").body).at("data");
  CHECK(first.at("data_source").as_string() == "models.dev");

  // Later rounds store the same scores again (a new reference time) and announce none of them.
  Watch everything(scoring, {"*"});
  const auto calculated_at = [&] {
    return std::string(parse_json(score_of("gpt-4o").body).at("data").at("last_calculated").as_string());
  };
  const std::string before = calculated_at();
  REQUIRE(wait_until([&] { return calculated_at() != before; }, 20s));
  const std::string second = calculated_at();
  REQUIRE(wait_until([&] { return calculated_at() != second; }, 20s));
  CHECK(everything.count() == 0);

  // Measured performance: five answered requests give gpt-4o the simulator's speed; only its score moves.
  for (int i = 0; i < 5; ++i) {
    REQUIRE(http_request(port, "POST", "/llm_request", body_of("Measure me " + std::to_string(i), "gpt-4o"))
                .status == 200);
  }
  const bool measured_seen = wait_until([&] { return everything.count() >= 1; }, 30s);
  if (!measured_seen) {
    auto proxy = v1::LlmProxy::NewStub(
        grpc::CreateChannel(stack.env().at("RALLY_LLM_PROXY_ADDR"), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetUsageStatsResponse usage;
    const grpc::Status status = proxy->GetUsageStats(&context, v1::GetUsageStatsRequest(), &usage);
    INFO(status.error_message() << " " << usage.DebugString());
    INFO(stack.logs());
    REQUIRE(measured_seen);
  }
  v1::ScoreUpdate measured = everything.updates()[0];
  CHECK(measured.score().model_id() == "openai/gpt-4o");
  CHECK(measured.score().data_source() == "models.dev+measured");
  CHECK(measured.score().inputs().performance_source() == "measured");
  CHECK(measured.score().inputs().tokens_per_second() > 50);  // the simulator answers at once
  CHECK(measured.score().components().speed_score() >
        first.at("components").at("speed_score").to_number<double>());

  // Ten votes make the arena's rating count in capability.
  const std::size_t seen = everything.count();
  for (int i = 0; i < 10; ++i) {
    const HttpResult vote =
        http_request(port, "POST", "/vote", R"({"modelA":"gpt-4","modelB":"gpt-3.5-turbo","result":"gpt-4"})",
                     {{"Content-Type", "application/json"}});
    INFO(vote.body);
    REQUIRE(vote.status == 200);
  }
  REQUIRE(wait_until(
      [&] {
        for (const v1::ScoreUpdate& update : everything.updates()) {
          if (update.score().model_id() == "openai/gpt-4" &&
              update.score().data_source().find("+arena") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      30s));
  for (std::size_t i = seen; i < everything.count(); ++i) {
    const v1::ScoreUpdate update = everything.updates()[i];
    const std::string id = update.score().model_id();
    INFO(update.DebugString());
    CHECK((id == "openai/gpt-4" || id == "openai/gpt-3.5-turbo"));  // only the two rated models changed
  }
}

}  // namespace rally::testing
