#include "gateway/routes/leaderboard_ws.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <utility>

#include "gateway/http/router.h"
#include "gateway/routes/arena_payloads.h"
#include "gateway/routes/leaderboard_mirror.h"
#include "gateway/upstream/call_counter.h"
#include "gateway/upstream/upstream_call.h"
#include "gateway/ws/snapshot_first_channel.h"
#include "gateway/ws/topic_fanout.h"
#include "rally/v1/arena.grpc.pb.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/redis_client.h"

namespace rally::gateway::routes {
namespace {

constexpr std::string_view kPing = "ping";
constexpr std::string_view kPong = R"({"type":"pong"})";

std::string error_message(const common::Error& error) {
  return boost::json::serialize(boost::json::object{
      {"type", "error"},
      {"error",
       boost::json::object{{"code", common::info(error.code).rest_code}, {"message", error.message}}},
  });
}

// What every connection of the route shares. Connections keep it alive; snapshot calls do not need it.
struct LeaderboardFeed {
  LeaderboardFeed(const std::shared_ptr<grpc::Channel>& arena, const common::RedisSettings& redis,
                  std::chrono::milliseconds timeout, std::shared_ptr<LeaderboardMirror> mirror,
                  upstream::CallMetrics call_metrics)
      : stub(v1::Arena::NewStub(arena)),
        arena_timeout(timeout),
        updates(redis, std::string(kLeaderboardChannel),
                [mirror = std::move(mirror)](std::string_view payload) {
                  mirror->invalidate();
                  return leaderboard_update(payload);
                }),
        calls(call_metrics) {}

  std::unique_ptr<v1::Arena::Stub> stub;
  std::chrono::milliseconds arena_timeout;
  ws::TopicFanout updates;
  // Last: destroyed first, waiting for the snapshot calls in flight.
  upstream::CallCounter calls;
};

struct SnapshotCall {
  SnapshotCall(upstream::CallCounter& calls, std::shared_ptr<ws::SnapshotFirstChannel> for_client)
      : guard(calls), client(std::move(for_client)) {}

  upstream::CallCounter::Guard guard;  // first: released last
  std::shared_ptr<ws::SnapshotFirstChannel> client;
  grpc::ClientContext context;
  v1::LeaderboardRequest request;
  v1::LeaderboardResponse reply;
};

// On a gRPC thread.
void send_snapshot(SnapshotCall& call, const grpc::Status& status) {
  if (status.ok()) {
    return call.client->release(leaderboard_message("snapshot", call.reply));
  }
  const common::Error error = common::from_grpc_status(status);
  if (status.error_code() != grpc::StatusCode::CANCELLED) {  // cancelled: the client left
    common::ScopedRequestId scope(call.client->request_id());
    spdlog::warn("live leaderboard: no snapshot from the arena: {} {}", common::info(error.code).rest_code,
                 error.message);
  }
  call.client->release(error_message(error));
}

// One connection.
class LeaderboardSubscriber final : public ws::WebSocketHandler {
 public:
  explicit LeaderboardSubscriber(std::shared_ptr<LeaderboardFeed> feed) : feed_(std::move(feed)) {}

  void on_open(const std::shared_ptr<ws::WebSocketChannel>& channel) override {
    channel_ = channel;
    client_ = std::make_shared<ws::SnapshotFirstChannel>(channel);
    // Added before the snapshot is asked for, so no change published in between is missed; the updates
    // wait in client_ until the snapshot went out.
    feed_->updates.add(client_);
    auto call = std::make_shared<SnapshotCall>(feed_->calls, client_);
    call_ = call;
    upstream::prepare_call(call->context, channel->request_id(), feed_->arena_timeout);
    feed_->stub->async()->Leaderboard(&call->context, &call->request, &call->reply,
                                      [call](const grpc::Status& status) { send_snapshot(*call, status); });
  }

  void on_message(std::string message) override {
    if (message == kPing) channel_->send(std::string(kPong));
  }

  void on_close() override {
    feed_->updates.remove(*client_);
    if (auto call = call_.lock()) call->context.TryCancel();
  }

 private:
  const std::shared_ptr<LeaderboardFeed> feed_;
  std::shared_ptr<ws::WebSocketChannel> channel_;
  std::shared_ptr<ws::SnapshotFirstChannel> client_;
  std::weak_ptr<SnapshotCall> call_;
};

}  // namespace

std::optional<std::string> leaderboard_update(std::string_view payload) {
  v1::LeaderboardResponse leaderboard;
  if (!leaderboard.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  return leaderboard_message("update", leaderboard);
}

void add_leaderboard_websocket(http::Router& router, const std::shared_ptr<grpc::Channel>& arena,
                               const common::RedisSettings& redis, std::chrono::milliseconds arena_timeout,
                               std::shared_ptr<LeaderboardMirror> mirror,
                               common::metrics::Registry& registry) {
  auto feed = std::make_shared<LeaderboardFeed>(arena, redis, arena_timeout, std::move(mirror),
                                                upstream::CallMetrics::of(registry, "arena"));
  // As every /api/v1 read: a read token, and the upgrade counts as one request of the read class.
  router.add_websocket("/api/v1/ws/leaderboard",
                       [feed](const http::Request&) { return std::make_unique<LeaderboardSubscriber>(feed); },
                       {edge::RoutePolicy::Access::kTokenRequired, edge::Scope::kRead, "read"});
}

}  // namespace rally::gateway::routes
