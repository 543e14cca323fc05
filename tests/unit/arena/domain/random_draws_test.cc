#include "services/arena/domain/random_draws.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

namespace rally::arena {
namespace {

TEST_CASE("uniform_unit stays at or above 0 and below 1 and covers that range") {
  std::mt19937_64 random(1);
  double low = 1;
  double high = 0;
  double sum = 0;
  for (int i = 0; i < 10'000; ++i) {
    const double value = uniform_unit(random);
    REQUIRE(value >= 0);
    REQUIRE(value < 1);
    low = std::min(low, value);
    high = std::max(high, value);
    sum += value;
  }
  CHECK(low < 0.01);
  CHECK(high > 0.99);
  CHECK(sum / 10'000 == Approx(0.5).margin(0.02));  // standard error 0.003
}

TEST_CASE("uniform_below stays below its bound and hits every value about equally") {
  std::mt19937_64 random(2);
  std::array<int, 7> counts{};
  for (int i = 0; i < 70'000; ++i) {
    const auto value = uniform_below(7, random);
    REQUIRE(value < 7);
    ++counts[value];
  }
  for (const int count : counts) CHECK(std::abs(count - 10'000) < 500);  // 5 standard deviations
  CHECK(uniform_below(1, random) == 0);
  const std::uint64_t huge = (std::uint64_t{1} << 63) + 12345;  // about half the outputs are rejected
  for (int i = 0; i < 100; ++i) REQUIRE(uniform_below(huge, random) < huge);
  CHECK_THROWS_AS(uniform_below(0, random), std::invalid_argument);
}

TEST_CASE("fair_coin lands both ways about equally") {
  std::mt19937_64 random(3);
  int heads = 0;
  for (int i = 0; i < 10'000; ++i) heads += fair_coin(random) ? 1 : 0;
  CHECK(std::abs(heads - 5'000) < 250);  // 5 standard deviations
}

TEST_CASE("The draws are a function of the engine's outputs only") {
  // The engine's output sequence is fixed by the C++ standard (its 10000th output from the default seed is
  // 9981545732273789042), so these values hold on every platform.
  std::mt19937_64 reference;
  reference.discard(9999);
  CHECK(reference() == 9981545732273789042ULL);

  std::mt19937_64 a(42);
  std::mt19937_64 b(42);
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t raw = b();
    REQUIRE(uniform_unit(a) == static_cast<double>(raw >> 11) / 9007199254740992.0);
  }
}

}  // namespace
}  // namespace rally::arena
