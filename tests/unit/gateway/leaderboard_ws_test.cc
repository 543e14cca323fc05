// /api/v1/ws/leaderboard and GET /leaderboard's mirror served by the real HTTP server over real sockets, with
// a fake arena (an in-process gRPC service) for snapshots and a Redis server of the test's own for updates
// (the channel name is fixed, so the shared server could carry other tests' messages).
#include "gateway/routes/leaderboard_ws.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/http_server.h"
#include "gateway/http/router.h"
#include "gateway/routes/arena_routes.h"
#include "gateway/routes/leaderboard_mirror.h"
#include "rally/v1/arena.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/common/metrics.h"
#include "services/common/redis_client.h"
#include "services/common/request_id.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/servers.h"
#include "tests/support/test_env.h"
#include "tests/unit/gateway/test_connection.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using rally::testing::wait_until;
using namespace std::chrono_literals;

v1::LeaderboardResponse board(std::string_view leader, std::uint64_t total_votes) {
  v1::LeaderboardResponse leaderboard;
  v1::LeaderboardEntry* entry = leaderboard.add_entries();
  entry->set_rank(1);
  entry->set_name(std::string(leader));
  entry->set_score(1234.5);
  leaderboard.set_total_votes(total_votes);
  return leaderboard;
}

// Answers Leaderboard with a fixed board or error, or holds calls until release(); records request ids.
class FakeArena final : public v1::Arena::CallbackService {
 public:
  explicit FakeArena(grpc::Status status = grpc::Status::OK, bool hold_calls = false)
      : status_(std::move(status)), hold_calls_(hold_calls) {}

  grpc::ServerUnaryReactor* Leaderboard(grpc::CallbackServerContext* context, const v1::LeaderboardRequest*,
                                        v1::LeaderboardResponse* response) override {
    auto* reactor = context->DefaultReactor();
    std::lock_guard lock(mutex_);
    const auto& metadata = context->client_metadata();
    const auto id = metadata.find(std::string(common::kRequestIdMetadataKey));
    request_ids_.emplace_back(id == metadata.end() ? "" : std::string(id->second.data(), id->second.size()));
    *response = board_;
    if (hold_calls_) {
      held_.push_back({context, reactor});
    } else {
      reactor->Finish(status_);
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* Vote(grpc::CallbackServerContext* context, const v1::VoteRequest* request,
                                 v1::VoteResponse* response) override {
    response->mutable_model_a()->set_model(request->model_a());
    response->mutable_model_b()->set_model(request->model_b());
    response->set_message("Vote recorded");
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  void set_board(v1::LeaderboardResponse leaderboard) {
    std::lock_guard lock(mutex_);
    board_ = std::move(leaderboard);
  }
  void release() {
    std::lock_guard lock(mutex_);
    for (const HeldCall& call : held_) call.reactor->Finish(status_);
    held_.clear();
  }
  std::size_t held() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }
  bool first_held_cancelled() {
    std::lock_guard lock(mutex_);
    return !held_.empty() && held_.front().context->IsCancelled();
  }
  std::vector<std::string> request_ids() {
    std::lock_guard lock(mutex_);
    return request_ids_;
  }

 private:
  struct HeldCall {
    grpc::CallbackServerContext* context;
    grpc::ServerUnaryReactor* reactor;
  };

  const grpc::Status status_;
  const bool hold_calls_;
  std::mutex mutex_;
  v1::LeaderboardResponse board_ = board("gpt-4o", 7);
  std::vector<std::string> request_ids_;
  std::vector<HeldCall> held_;
};

// The fake arena, a Redis server and the gateway's route on a real HTTP server, torn down in reverse.
class LeaderboardStack {
 public:
  explicit LeaderboardStack(FakeArena& arena, std::chrono::milliseconds arena_timeout = 5s,
                            std::chrono::milliseconds mirror_max_age = 60s)
      : arena_(arena), redis_(rally::testing::free_port()), publisher_(redis_settings()) {
    grpc::ServerBuilder builder;
    int arena_port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &arena_port);
    builder.RegisterService(&arena_);
    arena_server_ = builder.BuildAndStart();
    REQUIRE(arena_server_ != nullptr);

    const auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(arena_port), grpc::InsecureChannelCredentials());
    auto mirror = std::make_shared<LeaderboardMirror>(mirror_max_age);
    add_arena_routes(router_, channel, {arena_timeout}, mirror, common::metrics::Registry::global());
    add_leaderboard_websocket(router_, channel, redis_settings(), arena_timeout, mirror,
                              common::metrics::Registry::global());
    http::HttpServerSettings settings;
    settings.listen = {"127.0.0.1", 0};
    server_ = std::make_unique<http::HttpServer>(settings, router_, common::metrics::Registry::global());
    // Updates published before the route's subscription is live would be lost.
    REQUIRE(wait_until([&] { return subscribers() == 1; }, 3000ms));
  }

  ~LeaderboardStack() {
    arena_.release();  // the route waits for its calls in flight
    server_.reset();
    arena_server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  std::uint16_t port() const { return server_->port(); }
  void publish(std::string_view payload) { REQUIRE(publisher_.publish(kLeaderboardChannel, payload) == 1); }
  void publish(const v1::LeaderboardResponse& leaderboard) { publish(leaderboard.SerializeAsString()); }

 private:
  common::RedisSettings redis_settings() const {
    common::RedisSettings settings;
    settings.address = redis_.address();
    settings.reconnect_backoff = 100ms;
    return settings;
  }
  long long subscribers() {
    const common::RedisReply reply =
        publisher_.command({"PUBSUB", "NUMSUB", std::string(kLeaderboardChannel)});
    return reply.elements.size() == 2 ? reply.elements[1].integer : -1;
  }

  FakeArena& arena_;
  std::unique_ptr<grpc::Server> arena_server_;
  rally::testing::RedisServer redis_;
  common::RedisClient publisher_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
};

// A client of the route; its messages are JSON objects.
class LeaderboardClient {
 public:
  explicit LeaderboardClient(std::uint16_t port) : ws_(port, "/api/v1/ws/leaderboard") {}

  std::string request_id() const { return ws_.request_id(); }
  void write(std::string_view text) { ws_.write(text); }
  json::object read() { return json::parse(ws_.read()).as_object(); }
  void close() { ws_.close(); }

 private:
  testing::TestWebSocket ws_;
};

void check_board(const json::object& message, std::string_view type, std::string_view leader,
                 std::uint64_t total_votes) {
  CHECK(message.at("type").as_string() == type);
  const json::object& data = message.at("data").as_object();
  REQUIRE(data.at("leaderboard").as_array().size() == 1);
  CHECK(data.at("leaderboard").at(0).at("name").as_string() == leader);
  CHECK(data.at("total_votes").to_number<std::uint64_t>() == total_votes);
  CHECK(message.at("timestamp").is_string());
}

TEST_CASE("the live leaderboard opens with a snapshot, then sends every change", "[leaderboard_ws]") {
  FakeArena arena;
  LeaderboardStack stack(arena);
  common::metrics::Gauge& open_websockets =
      common::metrics::Registry::global()
          .gauge("rally_gateway_open_websockets", "WebSocket connections past their upgrade")
          .labels();
  const double websockets_before = open_websockets.value();
  LeaderboardClient first(stack.port());
  check_board(first.read(), "snapshot", "gpt-4o", 7);
  CHECK(open_websockets.value() == websockets_before + 1);
  CHECK(arena.request_ids() == std::vector<std::string>{first.request_id()});

  arena.set_board(board("claude-haiku-4-5", 8));
  LeaderboardClient second(stack.port());
  check_board(second.read(), "snapshot", "claude-haiku-4-5", 8);

  stack.publish(board("gpt-4o-mini", 9));
  stack.publish("\x0f not a LeaderboardResponse");  // skipped
  stack.publish(board("o3", 10));
  for (LeaderboardClient* client : {&first, &second}) {
    check_board(client->read(), "update", "gpt-4o-mini", 9);
    check_board(client->read(), "update", "o3", 10);
  }

  // "ping" is answered; anything else is ignored, so the next message is the next change.
  first.write("hello");
  first.write("ping");
  CHECK(first.read() == json::object{{"type", "pong"}});
  first.close();
  stack.publish(board("o4", 11));
  check_board(second.read(), "update", "o4", 11);
  CHECK(wait_until([&] { return open_websockets.value() == websockets_before + 1; }, 3000ms));
}

TEST_CASE("the live leaderboard sends an arena failure in place of the snapshot and stays open",
          "[leaderboard_ws]") {
  SECTION("an error the arena reports") {
    FakeArena arena(common::to_grpc_status({common::ErrorCode::kDatabaseError, "database unreachable"}));
    LeaderboardStack stack(arena);
    LeaderboardClient client(stack.port());
    const json::object message = client.read();
    CHECK(message.at("type").as_string() == "error");
    CHECK(message.at("error").as_object() ==
          json::object{{"code", "DATABASE_ERROR"}, {"message", "database unreachable"}});
    stack.publish(board("gpt-4o", 12));
    check_board(client.read(), "update", "gpt-4o", 12);
  }

  SECTION("an arena that does not answer within the deadline") {
    FakeArena arena(grpc::Status::OK, true);
    LeaderboardStack stack(arena, 300ms);
    LeaderboardClient client(stack.port());
    const json::object message = client.read();
    CHECK(message.at("type").as_string() == "error");
    CHECK(message.at("error").at("code").as_string() == "API_TIMEOUT");
  }
}

TEST_CASE("changes published while the snapshot is on its way follow it", "[leaderboard_ws]") {
  FakeArena arena(grpc::Status::OK, true);
  LeaderboardStack stack(arena);
  LeaderboardClient client(stack.port());
  REQUIRE(wait_until([&] { return arena.held() == 1; }, 3000ms));

  stack.publish(board("gpt-4o-mini", 8));
  std::this_thread::sleep_for(200ms);  // delivered to the route, which must hold it
  arena.release();
  check_board(client.read(), "snapshot", "gpt-4o", 7);
  check_board(client.read(), "update", "gpt-4o-mini", 8);
}

TEST_CASE("a client that leaves cancels its snapshot call", "[leaderboard_ws]") {
  FakeArena arena(grpc::Status::OK, true);
  LeaderboardStack stack(arena);
  LeaderboardClient client(stack.port());
  REQUIRE(wait_until([&] { return arena.held() == 1; }, 3000ms));
  client.close();
  CHECK(wait_until([&] { return arena.first_held_cancelled(); }, 3000ms));
}

TEST_CASE("leaderboard_update renders a published LeaderboardResponse and refuses anything else",
          "[leaderboard_ws]") {
  const std::optional<std::string> update = leaderboard_update(board("gpt-4o", 3).SerializeAsString());
  REQUIRE(update);
  check_board(json::parse(*update).as_object(), "update", "gpt-4o", 3);
  CHECK_FALSE(leaderboard_update("\x0f"));
  CHECK(leaderboard_update("").has_value());  // an empty leaderboard is a valid message
}

std::string leader_of(const rally::testing::HttpResult& result) {
  REQUIRE(result.status == 200);
  return std::string(json::parse(result.body).at(0).at("name").as_string());
}

TEST_CASE("GET /leaderboard answers from the gateway's copy until a vote or a published change",
          "[leaderboard_ws]") {
  FakeArena arena;
  LeaderboardStack stack(arena);
  const auto read = [&] {
    return leader_of(rally::testing::http_request(stack.port(), "GET", "/leaderboard"));
  };
  CHECK(read() == "gpt-4o");
  arena.set_board(board("o3", 8));
  CHECK(read() == "gpt-4o");  // the copy, no arena call
  CHECK(arena.request_ids().size() == 1);

  SECTION("a vote through this gateway is read at once") {
    const auto vote = rally::testing::http_request(stack.port(), "POST", "/vote",
                                                   R"({"modelA":"o3","modelB":"gpt-4o","result":"modelA"})");
    REQUIRE(vote.status == 200);
    CHECK(read() == "o3");
    CHECK(arena.request_ids().size() == 2);
  }
  SECTION("a change published by the arena (a vote through another gateway) is read once delivered") {
    stack.publish(board("o3", 8));
    CHECK(wait_until([&] { return read() == "o3"; }, 3000ms));
  }
}

TEST_CASE("concurrent GET /leaderboard misses share one arena call", "[leaderboard_ws]") {
  FakeArena arena(grpc::Status::OK, true);
  LeaderboardStack stack(arena);
  std::vector<std::thread> readers;
  std::vector<std::string> leaders(6);
  for (std::string& leader : leaders) {
    readers.emplace_back([&] {
      const auto result = rally::testing::http_request(stack.port(), "GET", "/leaderboard");
      if (result.status == 200) leader = std::string(json::parse(result.body).at(0).at("name").as_string());
    });
  }
  REQUIRE(wait_until([&] { return arena.held() == 1; }, 3000ms));
  std::this_thread::sleep_for(
      200ms);  // the other readers queue behind the held call (or, later, hit the copy)
  arena.release();
  for (std::thread& reader : readers) reader.join();
  CHECK(leaders == std::vector<std::string>(6, "gpt-4o"));
  CHECK(arena.request_ids().size() == 1);
}

TEST_CASE("readers waiting on a failed GET /leaderboard fetch get the error, not a hang",
          "[leaderboard_ws]") {
  FakeArena arena(common::to_grpc_status({common::ErrorCode::kDatabaseError, "database unreachable"}), true);
  LeaderboardStack stack(arena);
  std::vector<std::thread> readers;
  std::vector<int> statuses(4);
  std::atomic<int> answered{0};
  for (int& status : statuses) {
    readers.emplace_back([&] {
      status = rally::testing::http_request(stack.port(), "GET", "/leaderboard").status;
      ++answered;
    });
  }
  REQUIRE(wait_until([&] { return arena.held() == 1; }, 3000ms));
  std::this_thread::sleep_for(200ms);
  // The failed shared call sends each waiter to a call of its own, which fails the same way.
  CHECK(wait_until(
      [&] {
        arena.release();
        return answered == 4;
      },
      3000ms));
  for (std::thread& reader : readers) reader.join();
  const int error_status = statuses.front();
  CHECK(error_status >= 500);
  CHECK(statuses == std::vector<int>(4, error_status));
}

TEST_CASE("with max_age 0 every GET /leaderboard asks the arena", "[leaderboard_ws]") {
  FakeArena arena;
  LeaderboardStack stack(arena, 5s, 0ms);
  for (int i = 0; i < 3; ++i) {
    CHECK(rally::testing::http_request(stack.port(), "GET", "/leaderboard").status == 200);
  }
  CHECK(arena.request_ids().size() == 3);
}

}  // namespace
}  // namespace rally::gateway::routes
