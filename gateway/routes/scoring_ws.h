// The live scores: WebSocket /api/v1/ws/scoring. The client says which models it watches; the server pushes
// every stored score change of those models. Every message either way is one JSON text frame.
//
// The client sends:
//
//   {"action":"subscribe","model_ids":["gpt-4o","anthropic/claude-sonnet-4-5"]}
//                      adds ids to the connection's set; "*" watches every model
//   {"action":"unsubscribe","model_ids":["gpt-4o"]}
//                      removes ids from it ("*" is one entry: removing it leaves the explicit ids)
//   ping               the text "ping", answered {"type":"pong"}
//
// The server sends:
//
//   {"type":"subscribed","data":{"model_ids":[...]}}
//                      the answer to each subscribe and unsubscribe: the connection's whole set after it,
//                      sorted; every update sent after it is matched against that set
//   {"type":"score_update","data":{"model_id","model_name","overall_score","score_suffix","components",
//    "last_calculated","previous_overall_score"?},"timestamp":"..."}
//                      each score the scoring service stores (a calculation, recalculation or batch item) of
//                      a model the set holds, once per change even when several of its ids are held
//   {"type":"error","error":{"code":"INVALID_REQUEST","message":"..."}}
//                      the answer to any other message (not JSON, an unknown action or field, model_ids
//                      missing, not an array, empty, over 1000 ids, an id that is not a non-empty string of
//                      at most 256 bytes without control characters, or a set that would exceed 1000 ids);
//                      the message names the field and the problem, the set is unchanged, the connection
//                      stays open
//   {"type":"pong"}
//
// A model is watched under its key ("openai/gpt-4o", the provider/model id scores are stored under) or any
// of its aliases (ids resolving to it: "gpt-4o", catalog names), matched exactly; data.model_id is the id
// the client watches it under (the key when several are held, else the first alias held; the key for "*").
// Updates reach every client through one Redis subscription (ws::ModelFanout), each rendered once per id
// it goes out under. There is no snapshot: GET /api/v1/models/{model_id}/score gives the current score.
#pragma once

#include <optional>
#include <string_view>

#include "gateway/ws/model_fanout.h"
#include "services/common/redis_channels.h"

namespace rally::common {
struct RedisSettings;
}

namespace rally::gateway::http {
class Router;
}

namespace rally::gateway::routes {

using common::kScoreUpdatesChannel;  // services/common/redis_channels.h

// A message of kScoreUpdatesChannel as a ModelFanout update: the score's model_id and model_aliases, each
// rendered as the "score_update" above with data.model_id the id given; nullopt when the payload is not a
// ScoreUpdate or names no model.
std::optional<ws::ModelFanout::Update> score_update(std::string_view payload);

// Subscribes to kScoreUpdatesChannel on `redis` at once.
void add_scoring_websocket(http::Router& router, const common::RedisSettings& redis);

}  // namespace rally::gateway::routes
