// The JSON of the arena routes, pure (tested in tests/unit/gateway/arena_payloads_test.cc): the seed's
// /random_models, /vote and /leaderboard bodies, the battle bodies and the live leaderboard's WebSocket
// messages. GET /leaderboard and the WebSocket render rows with the same function, so both always agree.
#pragma once

#include <string>
#include <string_view>

#include "rally/v1/arena.pb.h"
#include "services/common/errors.h"

namespace rally::gateway::routes {

// {"modelA":"gpt-4o","modelB":"claude-haiku-4-5"}
std::string random_models_body(const v1::RandomPairResponse& pair);

// POST /vote {modelA, modelB, result}. A body that is not a JSON object, or a field that is present but not
// a string, is 400 INVALID_REQUEST "Invalid input" (details: field); absent or null fields go to the arena
// as empty, where the seed's checks (missing, same model, unknown result, unknown model) answer them.
common::Result<v1::VoteRequest> parse_vote_body(std::string_view body);

// {"message":"Vote recorded and ratings updated","new_ratings":{"<A>":r,"<B>":r},
//  "modelA":{"name","rating_before","rating_after"},"modelB":{...},"vote_id":n,"replayed":bool}
std::string vote_response_body(const v1::VoteResponse& response);

// The seed's leaderboard: a JSON array, best first, of {rank, name, score, price, price_per_score} plus
// votes, wins, losses, ties, both_bad, bt_rating, ci_lower, ci_upper, rank_ub.
std::string leaderboard_body(const v1::LeaderboardResponse& leaderboard);

// A message of /api/v1/ws/leaderboard: `type` is "snapshot" (first message) or "update";
// {"type":"...","data":{"leaderboard":[rows as above],"total_votes":n,"bt_votes":n,
//  "bt_computed_at":"2026-11-22T10:00:00Z" or null},"timestamp":"..."}
std::string leaderboard_message(std::string_view type, const v1::LeaderboardResponse& leaderboard);

// POST /api/v1/arena/battles {message}: a non-blank string, else 400 INVALID_REQUEST (details field).
common::Result<v1::CreateBattleRequest> parse_battle_body(std::string_view body);
// {"battle_id":"bt_...","expires_at":"2026-11-22T10:30:00Z"}
std::string battle_body(const v1::Battle& battle);

// POST /api/v1/arena/battles/{id}/vote {winner: "a"|"b"|"tie"|"bothbad"}; anything else is 400.
common::Result<v1::VoteBattleRequest> parse_battle_vote_body(std::string_view battle_id,
                                                             std::string_view body);
// {"battle_id","winner","modelA":{"name","rating_before","rating_after"},"modelB":{...}}
std::string battle_vote_body(const v1::VoteBattleResponse& response);

// ?side=a|b of the battle stream; anything else is 400 (details: parameter "side").
common::Result<v1::BattleSide> parse_battle_side(std::string_view side);

}  // namespace rally::gateway::routes
