#include "services/scoring/domain/score_weights.h"

#include <catch2/catch.hpp>
#include <limits>
#include <numeric>

namespace rally::scoring {
namespace {

double sum_of(const ScoreWeights& w) {
  const auto v = w.values();
  return std::accumulate(v.begin(), v.end(), 0.0);
}

std::string field_of(const common::Error& error) {
  for (const auto& [key, value] : error.details) {
    if (key == "field") return value;
  }
  return {};
}

TEST_CASE("The default weights are the seed's and are used as given") {
  const ScoreWeights w;
  CHECK(w.values() == std::array<double, 5>{0.25, 0.20, 0.25, 0.20, 0.10});
  const auto result = normalize_weights(w);
  REQUIRE(result.ok());
  CHECK_FALSE(result->normalized);
  CHECK(result->weights == w);
}

TEST_CASE("Weights that do not sum to 1 are normalised and say so") {
  const auto result = normalize_weights(ScoreWeights{1, 1, 1, 1, 0});
  REQUIRE(result.ok());
  CHECK(result->normalized);
  CHECK(result->weights.values() == std::array<double, 5>{0.25, 0.25, 0.25, 0.25, 0.0});
  const auto scaled = normalize_weights(ScoreWeights{5, 4, 5, 4, 2});
  REQUIRE(scaled.ok());
  CHECK(scaled->normalized);
  CHECK(sum_of(scaled->weights) == Approx(1.0).epsilon(1e-15));
  CHECK(scaled->weights.response_speed == Approx(0.25));
  const auto single = normalize_weights(ScoreWeights{0, 0, 0, 0, 3});
  REQUIRE(single.ok());
  CHECK(single->weights.recency == 1.0);
}

TEST_CASE("Negative, non-finite and all-zero weights are refused naming the key") {
  const double values[] = {-0.1, std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t key = 0; key < kWeightKeys.size(); ++key) {
    for (const double bad : values) {
      std::array<double, 5> v = ScoreWeights{}.values();
      v[key] = bad;
      const auto result = normalize_weights(ScoreWeights::from_values(v));
      REQUIRE_FALSE(result.ok());
      CHECK(result.error().code == common::ErrorCode::kInvalidRequest);
      CHECK(field_of(result.error()) == kWeightKeys[key]);
      CHECK(result.error().message.find(kWeightKeys[key]) != std::string::npos);
    }
  }
  const auto zero = normalize_weights(ScoreWeights{0, 0, 0, 0, 0});
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().code == common::ErrorCode::kInvalidRequest);
  const double big = std::numeric_limits<double>::max();
  const auto overflow = normalize_weights(ScoreWeights{big, big, 0, 0, 0});
  REQUIRE_FALSE(overflow.ok());
  CHECK(overflow.error().code == common::ErrorCode::kInvalidRequest);
}

TEST_CASE("Overrides replace only the keys they set") {
  const ScoreWeights base{0.3, 0.2, 0.2, 0.2, 0.1};
  CHECK(apply_overrides(base, {}) == base);
  WeightOverrides o;
  o.recency = 0.5;
  o.response_speed = 0;
  const ScoreWeights merged = apply_overrides(base, o);
  CHECK(merged.values() == std::array<double, 5>{0, 0.2, 0.2, 0.2, 0.5});
  const auto resolved = resolve_weights(base, o);
  REQUIRE(resolved.ok());
  CHECK(resolved->normalized);
  CHECK(sum_of(resolved->weights) == Approx(1.0));
  CHECK(resolved->weights.recency == Approx(0.5 / 1.1));
  WeightOverrides bad;
  bad.capability = -1;
  const auto refused = resolve_weights(base, bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(field_of(refused.error()) == "capability");
}

}  // namespace
}  // namespace rally::scoring
