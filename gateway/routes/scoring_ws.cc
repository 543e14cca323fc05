#include "gateway/routes/scoring_ws.h"

#include <memory>
#include <string>
#include <utility>

#include "gateway/http/router.h"
#include "gateway/routes/scoring_payloads.h"
#include "gateway/ws/model_subscription.h"
#include "rally/v1/scoring.pb.h"

namespace rally::gateway::routes {
namespace {

constexpr std::string_view kPing = "ping";
constexpr std::string_view kPong = R"({"type":"pong"})";

// One connection: its set lives in the fan-out, which orders changes to it with the updates.
class ScoreWatcher final : public ws::WebSocketHandler {
 public:
  explicit ScoreWatcher(std::shared_ptr<ws::ModelFanout> updates) : updates_(std::move(updates)) {}

  void on_open(const std::shared_ptr<ws::WebSocketChannel>& channel) override {
    channel_ = channel;
    updates_->add(channel_);
  }

  void on_message(std::string message) override {
    if (message == kPing) {
      channel_->send(std::string(kPong));
      return;
    }
    const common::Result<ws::SubscriptionRequest> request = ws::parse_subscription_request(message);
    if (!request.ok()) {
      channel_->send(ws::subscription_error_message(request.error()));
      return;
    }
    updates_->change_subscription(*channel_, [&](ws::ModelSubscription& subscription) {
      const std::optional<common::Error> refused = subscription.apply(request.value());
      channel_->send(refused ? ws::subscription_error_message(*refused)
                             : ws::subscribed_message(subscription));
    });
  }

  void on_close() override { updates_->remove(*channel_); }

 private:
  const std::shared_ptr<ws::ModelFanout> updates_;
  std::shared_ptr<ws::WebSocketChannel> channel_;
};

}  // namespace

std::optional<ws::ModelFanout::Update> score_update(std::string_view payload) {
  auto update = std::make_shared<v1::ScoreUpdate>();
  if (!update->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  if (update->score().model_id().empty()) return std::nullopt;
  ws::ModelFanout::Update decoded;
  decoded.key = update->score().model_id();
  decoded.aliases.assign(update->model_aliases().begin(), update->model_aliases().end());
  // The fan-out renders on its one thread, one id after another, so the message is relabelled in place.
  decoded.render = [update](std::string_view model_id) {
    update->mutable_score()->set_model_id(std::string(model_id));
    return score_update_message(*update);
  };
  return decoded;
}

void add_scoring_websocket(http::Router& router, const common::RedisSettings& redis) {
  auto updates = std::make_shared<ws::ModelFanout>(redis, std::string(kScoreUpdatesChannel), &score_update);
  // As every /api/v1 read: a read token, and the upgrade counts as one request of the read class.
  router.add_websocket("/api/v1/ws/scoring",
                       [updates](const http::Request&) { return std::make_unique<ScoreWatcher>(updates); },
                       {edge::RoutePolicy::Access::kTokenRequired, edge::Scope::kRead, "read"});
}

}  // namespace rally::gateway::routes
