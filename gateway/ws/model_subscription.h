// What a client of a per-model live feed asks to watch, and which updates that selects: the pure half of a
// ModelFanout (model_fanout.h), free of I/O so that it can be unit-tested and fuzzed. The live scores
// (/api/v1/ws/scoring, routes/scoring_ws.h) speak this protocol.
//
// A client sends {"action":"subscribe"|"unsubscribe","model_ids":[...]}; "*" stands for every model. The
// connection's set is the union of what it subscribed minus what it unsubscribed ("*" is one entry of it:
// unsubscribing "*" leaves the explicit ids). An update of a model reaches a set holding the model's key
// ("openai/gpt-4o"), any of its aliases ("gpt-4o") or "*", once, under the id the client used.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::gateway::ws {

// The entry of a set that matches every model.
inline constexpr std::string_view kAllModels = "*";
// Ids one connection may watch at once, and the bytes of one id: a connection's set stays small.
inline constexpr std::size_t kMaxWatchedModels = 1000;
inline constexpr std::size_t kMaxModelIdBytes = 256;

struct SubscriptionRequest {
  enum class Action { kSubscribe, kUnsubscribe };

  Action action = Action::kSubscribe;
  // 1..kMaxWatchedModels ids, each 1..kMaxModelIdBytes bytes of UTF-8 without control characters.
  std::vector<std::string> model_ids;
};

// One client message as a request: a JSON object with "action" ("subscribe" or "unsubscribe") and
// "model_ids" and nothing else. INVALID_REQUEST otherwise, its message naming the field and the problem
// ("Invalid request: model_ids[2] must be a non-empty string").
common::Result<SubscriptionRequest> parse_subscription_request(std::string_view text);

// The ids one connection watches.
class ModelSubscription {
 public:
  using Ids = std::set<std::string, std::less<>>;

  // Adds (subscribe) or removes (unsubscribe) the request's ids. A subscription that would leave more than
  // kMaxWatchedModels ids is refused with INVALID_REQUEST and changes nothing; removing an id the set does
  // not hold is no error.
  std::optional<common::Error> apply(const SubscriptionRequest& request);

  const Ids& model_ids() const { return ids_; }

  // The id an update of the model `key`, also known as `aliases`, reaches this set under: `key` when the set
  // holds it, else the first of `aliases` it holds, else `key` when it holds "*"; nullopt when it watches
  // none of them. The view is of `key` or of an element of `aliases`.
  std::optional<std::string_view> match(std::string_view key, std::span<const std::string> aliases) const;

 private:
  Ids ids_;
};

// The answer to every subscribe and unsubscribe: {"type":"subscribed","data":{"model_ids":[...]}}, the
// connection's whole set after the change, sorted.
std::string subscribed_message(const ModelSubscription& subscription);
// The answer to a message that is refused:
// {"type":"error","error":{"code":"INVALID_REQUEST","message":"..."}}.
std::string subscription_error_message(const common::Error& error);

}  // namespace rally::gateway::ws
