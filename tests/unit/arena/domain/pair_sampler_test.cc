#include "services/arena/domain/pair_sampler.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace rally::arena {
namespace {

std::pair<std::string, std::string> unordered(const ModelPair& pair) {
  return pair.model_a < pair.model_b ? std::pair(pair.model_a, pair.model_b)
                                     : std::pair(pair.model_b, pair.model_a);
}

TEST_CASE("A pair never holds the same model twice") {
  const std::vector<PairCandidate> candidates = {
      {.name = "a"}, {.name = "b"}, {.name = "c", .sampling_weight = 50}};
  std::mt19937_64 random(1);
  for (int i = 0; i < 10'000; ++i) {
    const auto pair = sample_pair(candidates, random);
    REQUIRE(pair.ok());
    REQUIRE(pair->model_a != pair->model_b);
  }
}

TEST_CASE("Pairs follow the sampling weights") {
  // Weights 1, 2, 3, 4: the first model by weight, the second by weight among the rest, so the unordered
  // pair {i, j} comes up with probability w_i/W * w_j/(W - w_i) + w_j/W * w_i/(W - w_j).
  const std::vector<PairCandidate> candidates = {{.name = "m1", .sampling_weight = 1},
                                                 {.name = "m2", .sampling_weight = 2},
                                                 {.name = "m3", .sampling_weight = 3},
                                                 {.name = "m4", .sampling_weight = 4}};
  const double total = 10;
  std::map<std::pair<std::string, std::string>, double> expected;
  for (const auto& x : candidates) {
    for (const auto& y : candidates) {
      if (x.name >= y.name) continue;
      const double wx = x.sampling_weight;
      const double wy = y.sampling_weight;
      expected[{x.name, y.name}] = wx / total * wy / (total - wx) + wy / total * wx / (total - wy);
    }
  }
  constexpr int kDraws = 10'000;
  std::map<std::pair<std::string, std::string>, int> observed;
  std::mt19937_64 random(2);
  for (int i = 0; i < kDraws; ++i) ++observed[unordered(sample_pair(candidates, random).value())];
  REQUIRE(observed.size() == 6);
  double chi_square = 0;
  for (const auto& [pair, probability] : expected) {
    const double wanted = probability * kDraws;
    chi_square += (observed[pair] - wanted) * (observed[pair] - wanted) / wanted;
  }
  // 5 degrees of freedom: P(chi-square > 30) is about 1.5e-5, so only a wrong distribution gets here.
  CHECK(chi_square < 30);
  // And a plainly wrong distribution would: uniform pairs are far off.
  double uniform_chi_square = 0;
  for (const auto& [pair, probability] : expected) {
    const double wanted = probability * kDraws;
    const double uniform = kDraws / 6.0;
    uniform_chi_square += (uniform - wanted) * (uniform - wanted) / wanted;
  }
  CHECK(uniform_chi_square > 100);
}

TEST_CASE("Disabled, cooled-down and weightless models are never drawn") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double infinity = std::numeric_limits<double>::infinity();
  const std::vector<PairCandidate> candidates = {
      {.name = "disabled", .sampling_weight = 100, .enabled = false},
      {.name = "ok1"},
      {.name = "cooled", .sampling_weight = 100, .cooled_down = true},
      {.name = "zero", .sampling_weight = 0},
      {.name = "negative", .sampling_weight = -1},
      {.name = "nan", .sampling_weight = nan},
      {.name = "infinite", .sampling_weight = infinity},
      {.name = "ok2", .sampling_weight = 0.001},
  };
  for (const auto& candidate : candidates) {
    CHECK(is_eligible(candidate) == (candidate.name == "ok1" || candidate.name == "ok2"));
  }
  std::mt19937_64 random(3);
  for (int i = 0; i < 10'000; ++i) {
    const auto pair = sample_pair(candidates, random);
    REQUIRE(pair.ok());
    REQUIRE(unordered(pair.value()) == std::pair<std::string, std::string>("ok1", "ok2"));
  }
}

TEST_CASE("Either model of a pair is shown on the left about half the time") {
  const std::vector<PairCandidate> candidates = {{.name = "heavy", .sampling_weight = 9}, {.name = "light"}};
  std::mt19937_64 random(4);
  int heavy_left = 0;
  for (int i = 0; i < 10'000; ++i) heavy_left += sample_pair(candidates, random)->model_a == "heavy" ? 1 : 0;
  CHECK(std::abs(heavy_left - 5'000) < 250);  // 5 standard deviations
}

TEST_CASE("The same seed draws the same pairs") {
  const std::vector<PairCandidate> candidates = {
      {.name = "a"}, {.name = "b", .sampling_weight = 2}, {.name = "c"}};
  std::mt19937_64 first(5);
  std::mt19937_64 second(5);
  for (int i = 0; i < 100; ++i) {
    const ModelPair x = sample_pair(candidates, first).value();
    const ModelPair y = sample_pair(candidates, second).value();
    REQUIRE(x.model_a == y.model_a);
    REQUIRE(x.model_b == y.model_b);
  }
}

TEST_CASE("Fewer than two eligible models is SERVICE_UNAVAILABLE") {
  const std::vector<std::vector<PairCandidate>> cases = {
      {},
      {{.name = "only"}},
      {{.name = "only"}, {.name = "off", .enabled = false}, {.name = "cool", .cooled_down = true}},
      {{.name = "twice"}, {.name = "twice"}},  // one model listed twice is still one model
      {{.name = "zero", .sampling_weight = 0}, {.name = "zero2", .sampling_weight = 0}},
  };
  std::mt19937_64 random(6);
  for (const auto& candidates : cases) {
    const auto pair = sample_pair(candidates, random);
    REQUIRE_FALSE(pair.ok());
    CHECK(pair.error().code == common::ErrorCode::kServiceUnavailable);
    CHECK_THAT(pair.error().message, Catch::StartsWith("Fewer than two models are available"));
  }
  const auto one = sample_pair({{.name = "only"}, {.name = "off", .enabled = false}}, random);
  REQUIRE_FALSE(one.ok());
  CHECK_THAT(one.error().message, Catch::Contains("eligible: 1 of 2"));
  REQUIRE(one.error().details.size() == 1);
  CHECK(one.error().details[0] == std::pair<std::string, std::string>("eligible_models", "only"));
}

}  // namespace
}  // namespace rally::arena
