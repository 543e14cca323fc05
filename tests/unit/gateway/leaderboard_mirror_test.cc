#include "gateway/routes/leaderboard_mirror.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace rally::gateway::routes {
namespace {

using namespace std::chrono_literals;
using Body = LeaderboardMirror::Body;
const LeaderboardMirror::Clock::time_point kStart{};

Body body(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

// Records what a waiter was handed; "<failed>" for a failed fetch.
struct Recorder {
  std::vector<std::string> got;
  LeaderboardMirror::Waiter waiter() {
    return [this](const Body& answer) { got.push_back(answer ? *answer : "<failed>"); };
  }
};

TEST_CASE("the leaderboard mirror serves a fetched body until max_age", "[leaderboard_mirror]") {
  LeaderboardMirror mirror(1000ms);
  Recorder recorder;
  const auto first = mirror.lookup(kStart, recorder.waiter());
  REQUIRE(first.lead);
  CHECK_FALSE(first.body);
  mirror.finish(first.generation, body("v1"), kStart);

  const auto hit = mirror.lookup(kStart + 999ms, recorder.waiter());
  REQUIRE(hit.body);
  CHECK(*hit.body == "v1");
  CHECK_FALSE(hit.lead);

  const auto expired = mirror.lookup(kStart + 1000ms, recorder.waiter());
  CHECK(expired.lead);
  CHECK_FALSE(expired.body);
  CHECK(recorder.got.empty());
}

TEST_CASE("concurrent misses wait for one fetch and share its body", "[leaderboard_mirror]") {
  LeaderboardMirror mirror(1000ms);
  Recorder recorder;
  const auto lead = mirror.lookup(kStart, recorder.waiter());
  REQUIRE(lead.lead);
  for (int i = 0; i < 3; ++i) {
    const auto waiting = mirror.lookup(kStart, recorder.waiter());
    CHECK_FALSE(waiting.lead);
    CHECK_FALSE(waiting.body);
  }
  CHECK(recorder.got.empty());
  mirror.finish(lead.generation, body("v1"), kStart);
  CHECK(recorder.got == std::vector<std::string>{"v1", "v1", "v1"});
}

TEST_CASE("a failed fetch tells its waiters and keeps nothing", "[leaderboard_mirror]") {
  LeaderboardMirror mirror(1000ms);
  Recorder recorder;
  const auto lead = mirror.lookup(kStart, recorder.waiter());
  mirror.lookup(kStart, recorder.waiter());
  mirror.finish(lead.generation, nullptr, kStart);
  CHECK(recorder.got == std::vector<std::string>{"<failed>"});
  CHECK(mirror.lookup(kStart, recorder.waiter()).lead);  // the next reader fetches anew
}

TEST_CASE("an invalidation drops the copy and any fetch begun before it", "[leaderboard_mirror]") {
  LeaderboardMirror mirror(1000ms);
  Recorder recorder;
  const auto first = mirror.lookup(kStart, recorder.waiter());
  mirror.finish(first.generation, body("v1"), kStart);
  mirror.invalidate();
  const auto after_vote = mirror.lookup(kStart, recorder.waiter());
  REQUIRE(after_vote.lead);
  CHECK(after_vote.generation != first.generation);

  SECTION("a fetch that began before the vote is answered to its waiters but not kept") {
    mirror.lookup(kStart, recorder.waiter());  // waits for after_vote's fetch
    mirror.invalidate();                       // another vote while that fetch runs
    const auto newest = mirror.lookup(kStart, recorder.waiter());
    CHECK(newest.lead);  // does not join the older fetch
    mirror.finish(after_vote.generation, body("v2"), kStart);
    CHECK(recorder.got == std::vector<std::string>{"v2"});
    CHECK(mirror.lookup(kStart, recorder.waiter()).body == nullptr);  // v2 was not kept
    mirror.finish(newest.generation, body("v3"), kStart);
    const auto hit = mirror.lookup(kStart, recorder.waiter());
    REQUIRE(hit.body);
    CHECK(*hit.body == "v3");
  }
}

TEST_CASE("a mirror with max_age 0 keeps nothing and shares nothing", "[leaderboard_mirror]") {
  LeaderboardMirror mirror(0ms);
  Recorder recorder;
  const auto first = mirror.lookup(kStart, recorder.waiter());
  CHECK(first.lead);
  CHECK(mirror.lookup(kStart, recorder.waiter()).lead);
  mirror.finish(first.generation, body("v1"), kStart);
  CHECK(mirror.lookup(kStart, recorder.waiter()).lead);
  CHECK(recorder.got.empty());
}

}  // namespace
}  // namespace rally::gateway::routes
