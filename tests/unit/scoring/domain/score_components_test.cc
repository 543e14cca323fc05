#include "services/scoring/domain/score_components.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace rally::scoring {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Values from 0 up to 1e7, denser near the anchors.
std::vector<double> sweep() {
  std::vector<double> xs = {0.0};
  for (double x = 1e-3; x < 1e7; x *= 1.07) xs.push_back(x);
  return xs;
}

// f is bounded in [0, 10] and monotone (non-increasing when `decreasing`) over xs.
void check_monotone_bounded(const std::function<double(double)>& f, const std::vector<double>& xs,
                            bool decreasing) {
  double previous = f(xs.front());
  for (const double x : xs) {
    const double y = f(x);
    INFO("x = " << x << ", f(x) = " << y);
    REQUIRE(std::isfinite(y));
    REQUIRE(y >= 0.0);
    REQUIRE(y <= 10.0);
    if (decreasing) {
      REQUIRE(y <= previous);
    } else {
      REQUIRE(y >= previous);
    }
    previous = y;
  }
}

TEST_CASE("Time to first token: decreasing log-logistic with its anchors") {
  check_monotone_bounded(time_to_first_token_score, sweep(), true);
  CHECK(time_to_first_token_score(0) == 10.0);
  CHECK(time_to_first_token_score(250) == Approx(10.0 / 1.125));
  CHECK(time_to_first_token_score(1000) == Approx(5.0));
  CHECK(time_to_first_token_score(4000) == Approx(10.0 / 9.0));
  CHECK(time_to_first_token_score(-5) == 10.0);
  CHECK(time_to_first_token_score(kInf) == 0.0);
  CHECK(time_to_first_token_score(kNaN) == time_to_first_token_score(kDefaultTimeToFirstTokenMs));
}

TEST_CASE("Throughput: increasing log-logistic with its anchors") {
  check_monotone_bounded(throughput_score, sweep(), false);
  CHECK(throughput_score(0) == 0.0);
  CHECK(throughput_score(-1) == 0.0);
  CHECK(throughput_score(12.5) == Approx(10.0 / 9.0));
  CHECK(throughput_score(50) == Approx(5.0));
  CHECK(throughput_score(200) == Approx(10.0 / 1.125));
  CHECK(throughput_score(kInf) == 10.0);
  CHECK(throughput_score(1e300) <= 10.0);
}

TEST_CASE("Speed is monotone in each input and exactly 5 with the default performance") {
  for (const double tps : {0.0, 10.0, 50.0, 500.0}) {
    check_monotone_bounded([tps](double ttft) { return speed_score(ttft, tps); }, sweep(), true);
  }
  for (const double ttft : {0.0, 300.0, 1000.0, 10000.0}) {
    check_monotone_bounded([ttft](double tps) { return speed_score(ttft, tps); }, sweep(), false);
  }
  CHECK(speed_score(kDefaultTimeToFirstTokenMs, kDefaultTokensPerSecond) == Approx(5.0));
}

TEST_CASE("Blended price: 3 to 1, one price standing for both, invalid prices missing") {
  CHECK(*blended_price(2.5, 10) == Approx(4.375));
  CHECK(*blended_price(0, 0) == 0.0);
  CHECK(*blended_price(std::nullopt, 8) == 8.0);
  CHECK(*blended_price(4, std::nullopt) == 4.0);
  CHECK_FALSE(blended_price(std::nullopt, std::nullopt));
  CHECK_FALSE(blended_price(-1, kNaN));
  CHECK(*blended_price(-1, 6) == 6.0);
}

TEST_CASE("Cost: zero price is best, missing price is neutral, monotone decreasing") {
  check_monotone_bounded([](double p) { return cost_score(p); }, sweep(), true);
  CHECK(cost_score(0.0) == 10.0);
  CHECK(cost_score(1.0) == Approx(7.5));
  CHECK(cost_score(3.0) == Approx(5.0));
  CHECK(cost_score(10.0) == Approx(10.0 / (1.0 + 10.0 / 3.0)));
  CHECK(cost_score(std::nullopt) == kMissingPriceScore);
  CHECK(cost_score(-2.0) == kMissingPriceScore);
  CHECK(cost_score(kNaN) == kMissingPriceScore);
  CHECK(cost_score(kInf) == kMissingPriceScore);
}

TEST_CASE("Efficiency: monotone in price, output share and error rate, bounded") {
  check_monotone_bounded([](double p) { return efficiency_score(p, 128000, 16384, 0.01); }, sweep(), true);
  check_monotone_bounded(
      [](double out) { return efficiency_score(10.0, 128000, static_cast<std::uint64_t>(out), 0.0); },
      std::vector<double>{1, 10, 100, 1000, 16384, 64000, 128000, 500000}, false);
  std::vector<double> rates;
  for (int i = 0; i <= 100; ++i) rates.push_back(i / 100.0);
  check_monotone_bounded([](double e) { return efficiency_score(3.0, 200000, 64000, e); }, rates, true);
  CHECK(efficiency_score(0.0, 1000, 1000, 0.0) == Approx(10.0 * (0.6 + 0.4 * (1.0 / 1.125))));
  CHECK(efficiency_score(10.0, 128000, 16000, 1.0) == 0.0);
  CHECK(efficiency_score(10.0, 128000, 16000, 2.0) == 0.0);
  CHECK(efficiency_score(10.0, 128000, 16000, -1.0) == efficiency_score(10.0, 128000, 16000, 0.0));
  CHECK(value_factor(std::nullopt) == 0.5);
  CHECK(value_factor(0.0) == 1.0);
  CHECK(value_factor(10.0) == Approx(0.5));
  CHECK(output_share_factor(0, 4096) == 0.5);
  CHECK(output_share_factor(4096, 0) == 0.5);
  CHECK(output_share_factor(128000, 16000) == Approx(0.5));
  CHECK(output_share_factor(1000, 5000) == output_share_factor(1000, 1000));
}

ModelInputs bare_model() {
  ModelInputs in;
  in.input_modalities = {"text"};
  in.output_modalities = {"text"};
  return in;
}

TEST_CASE("Capability: every feature, limit and modality adds, bounded by 10") {
  ModelInputs in = bare_model();
  CHECK(feature_capability(in) == 0.0);
  double previous = 0;
  const std::vector<std::function<void(ModelInputs&)>> steps = {
      [](ModelInputs& m) { m.reasoning = true; },
      [](ModelInputs& m) { m.tool_call = true; },
      [](ModelInputs& m) { m.structured_output = true; },
      [](ModelInputs& m) { m.attachment = true; },
      [](ModelInputs& m) { m.context_window_tokens = 8192; },
      [](ModelInputs& m) { m.context_window_tokens = 128000; },
      [](ModelInputs& m) { m.context_window_tokens = 2000000; },
      [](ModelInputs& m) { m.max_output_tokens = 4096; },
      [](ModelInputs& m) { m.max_output_tokens = 128000; },
      [](ModelInputs& m) { m.input_modalities.push_back("image"); },
      [](ModelInputs& m) { m.input_modalities.push_back("image"); },  // a duplicate adds nothing
      [](ModelInputs& m) { m.input_modalities.push_back("audio"); },
      [](ModelInputs& m) { m.output_modalities.push_back("audio"); },  // same modality on both sides
      [](ModelInputs& m) { m.input_modalities.push_back("video"); },
      [](ModelInputs& m) { m.input_modalities.push_back("pdf"); },
      [](ModelInputs& m) { m.context_window_tokens = std::numeric_limits<std::uint64_t>::max(); },
      [](ModelInputs& m) { m.max_output_tokens = std::numeric_limits<std::uint64_t>::max(); },
  };
  for (const auto& step : steps) {
    step(in);
    const double now = feature_capability(in);
    CHECK(now >= previous);
    CHECK(now <= 10.0);
    previous = now;
  }
  CHECK(previous > 9.5);
  in.context_window_tokens = 128000;
  in.max_output_tokens = 16384;
  in.input_modalities = {"text", "image"};
  in.output_modalities = {"text"};
  in.reasoning = in.tool_call = in.structured_output = in.attachment = true;
  CHECK(feature_capability(in) == Approx(10.0 * (3.5 + 1.0 + 0.5 + 0.75) / 8.0));
}

TEST_CASE("Arena rating: bounded logistic blend into capability") {
  check_monotone_bounded(
      arena_capability,
      [] {
        std::vector<double> r;
        for (double x = -5000; x <= 5000; x += 25) r.push_back(x);
        return r;
      }(),
      false);
  CHECK(arena_capability(1200) == Approx(5.0));
  CHECK(arena_capability(1600) == Approx(100.0 / 11.0));
  ModelInputs in = bare_model();
  in.tool_call = true;
  const double features = feature_capability(in);
  in.arena_rating = 1200;
  CHECK(capability_score(in) == Approx(0.6 * features + 0.4 * 5.0));
  in.arena_rating = 1e9;
  CHECK(capability_score(in) <= 10.0);
  in.arena_rating = kNaN;
  CHECK(capability_score(in) == features);
}

TEST_CASE("Dates: YYYY-MM-DD and YYYY-MM parse, anything else does not") {
  using namespace std::chrono;
  CHECK(parse_model_date("2024-05-13") == sys_days{2024y / 5 / 13});
  CHECK(parse_model_date("2023-09") == sys_days{2023y / 9 / 1});
  CHECK(parse_model_date("2024-02-29") == sys_days{2024y / 2 / 29});
  for (const char* bad :
       {"", "2024", "2024-13", "2024-00", "2023-02-29", "2024-04-31", "2024-5-13", "2024/05/13", "24-05-13",
        " 2024-05-13", "2024-05-13T00:00:00Z", "abcd-ef", "2024-05-1x", "2024-05-00"}) {
    INFO(bad);
    CHECK_FALSE(parse_model_date(bad));
  }
}

TEST_CASE("Recency: halves every 365 days, 10 for future dates, neutral when unknown") {
  const sys_seconds reference{sys_days{std::chrono::year{2026} / 11 / 22}};
  std::vector<double> ages;
  for (double a = -100; a < 10000; a += 7) ages.push_back(a);
  check_monotone_bounded([](double age) { return recency_score(age); }, ages, true);
  CHECK(recency_score(0.0) == 10.0);
  CHECK(recency_score(-30.0) == 10.0);
  CHECK(recency_score(365.0) == Approx(5.0));
  CHECK(recency_score(730.0) == Approx(2.5));
  CHECK(recency_score(std::nullopt) == kMissingDateScore);
  CHECK(age_in_days(sys_days{std::chrono::year{2025} / 11 / 22}, reference) == 365.0);
  CHECK(age_in_days(sys_days{std::chrono::year{2026} / 11 / 21}, reference + 12h) == 1.5);

  ModelInputs in = bare_model();
  CHECK_FALSE(recency_date(in));
  in.knowledge_cutoff = "2024-01";
  CHECK(recency_date(in) == sys_days{std::chrono::year{2024} / 1 / 1});
  in.last_updated = "2025-03-04";
  CHECK(recency_date(in) == sys_days{std::chrono::year{2025} / 3 / 4});
  in.release_date = "not a date";
  CHECK(recency_date(in) == sys_days{std::chrono::year{2025} / 3 / 4});
  in.release_date = "2025-01";
  CHECK(recency_date(in) == sys_days{std::chrono::year{2025} / 1 / 1});
}

TEST_CASE("compute_components flags what it filled in") {
  const sys_seconds reference{sys_days{std::chrono::year{2026} / 11 / 22}};
  ModelInputs in = bare_model();
  ComponentResult r = compute_components(in, reference);
  CHECK(r.flags.price_missing);
  CHECK_FALSE(r.flags.price_partial);
  CHECK(r.flags.date_missing);
  CHECK(r.flags.performance_default);
  CHECK(r.components.cost == kMissingPriceScore);
  CHECK(r.components.recency == kMissingDateScore);
  CHECK(r.components.speed == Approx(5.0));

  in.output_usd_per_1m_tokens = 0;
  in.release_date = "2026-11-22";
  in.performance_source = PerformanceSource::kMeasured;
  r = compute_components(in, reference);
  CHECK_FALSE(r.flags.price_missing);
  CHECK(r.flags.price_partial);
  CHECK_FALSE(r.flags.date_missing);
  CHECK_FALSE(r.flags.performance_default);
  CHECK(r.components.cost == 10.0);
  CHECK(r.components.recency == 10.0);

  // Every component stays in [0, 10] for hostile values.
  in.input_usd_per_1m_tokens = -kInf;
  in.output_usd_per_1m_tokens = kNaN;
  in.time_to_first_token_ms = kNaN;
  in.tokens_per_second = -kInf;
  in.error_rate = kInf;
  in.arena_rating = -kInf;
  r = compute_components(in, reference);
  for (const double c : {r.components.speed, r.components.efficiency, r.components.cost,
                         r.components.capability, r.components.recency}) {
    CHECK(c >= 0.0);
    CHECK(c <= 10.0);
  }
}

}  // namespace
}  // namespace rally::scoring
