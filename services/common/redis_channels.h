// The Redis channels services publish on and the gateway subscribes to: part of the wire contract between
// them, so both sides take the names from here.
#pragma once

#include <string_view>

namespace rally::common {

// The whole leaderboard after each change: a serialized rally.v1.LeaderboardResponse (the arena publishes).
inline constexpr std::string_view kLeaderboardChannel = "rally:arena:leaderboard";

// Every stored score change: a serialized rally.v1.ScoreUpdate (the scoring service publishes).
inline constexpr std::string_view kScoreUpdatesChannel = "rally:scoring:updates";

}  // namespace rally::common
