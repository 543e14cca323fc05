#include "services/common/metrics.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace rally::common::metrics {
namespace {

TEST_CASE("an unlabelled counter is exposed as 0 before its first increment", "[metrics]") {
  Registry registry;
  auto& requests = registry.counter("rally_requests_total", "Requests handled.");
  CHECK(registry.render() ==
        "# HELP rally_requests_total Requests handled.\n"
        "# TYPE rally_requests_total counter\n"
        "rally_requests_total 0\n");

  requests.labels().inc();
  requests.labels().inc(2);
  CHECK(requests.labels().value() == 3);
  CHECK(registry.render() ==
        "# HELP rally_requests_total Requests handled.\n"
        "# TYPE rally_requests_total counter\n"
        "rally_requests_total 3\n");
}

TEST_CASE("numbers use the shortest form that round-trips and Prometheus' special values", "[metrics]") {
  Registry registry;
  auto& gauge = registry.gauge("g", "A gauge.");
  const auto sample = [&] {
    const std::string text = registry.render();
    return text.substr(text.rfind("\ng ") + 3);
  };
  gauge.labels().set(0.1);
  CHECK(sample() == "0.1\n");
  gauge.labels().set(-2.5);
  CHECK(sample() == "-2.5\n");
  gauge.labels().set(1234567890123.0);
  CHECK(sample() == "1234567890123\n");
  gauge.labels().set(1e300);
  CHECK(sample() == "1e+300\n");
  gauge.labels().set(std::numeric_limits<double>::infinity());
  CHECK(sample() == "+Inf\n");
  gauge.labels().set(-std::numeric_limits<double>::infinity());
  CHECK(sample() == "-Inf\n");
  gauge.labels().set(std::numeric_limits<double>::quiet_NaN());
  CHECK(sample() == "NaN\n");
}

TEST_CASE("gauges go up and down", "[metrics]") {
  Registry registry;
  auto& in_flight = registry.gauge("rally_in_flight", "Calls in progress.").labels();
  in_flight.inc();
  in_flight.inc(4);
  in_flight.dec(2);
  CHECK(in_flight.value() == 3);
  in_flight.set(-1);
  CHECK(in_flight.value() == -1);
}

TEST_CASE("counters refuse to go down", "[metrics]") {
  Registry registry;
  auto& counter = registry.counter("c_total", "C.").labels();
  CHECK_THROWS_AS(counter.inc(-1), std::invalid_argument);
  CHECK_THROWS_AS(counter.inc(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  counter.inc(0);
  CHECK(counter.value() == 0);
}

TEST_CASE("labelled children are rendered in label order with escaped values", "[metrics]") {
  Registry registry;
  auto& family = registry.counter("rally_http_requests_total", "HTTP requests.", {"route", "status"});
  family.labels({"/v1/vote", "200"}).inc(5);
  family.labels({"/v1/battle", "500"}).inc();
  family.labels({"a\\b \"c\"\nd", "404"}).inc();
  CHECK(&family.labels({"/v1/vote", "200"}) == &family.labels({"/v1/vote", "200"}));

  CHECK(registry.render() ==
        "# HELP rally_http_requests_total HTTP requests.\n"
        "# TYPE rally_http_requests_total counter\n"
        "rally_http_requests_total{route=\"/v1/battle\",status=\"500\"} 1\n"
        "rally_http_requests_total{route=\"/v1/vote\",status=\"200\"} 5\n"
        "rally_http_requests_total{route=\"a\\\\b \\\"c\\\"\\nd\",status=\"404\"} 1\n");
}

TEST_CASE("a labelled family shows no samples until a child exists", "[metrics]") {
  Registry registry;
  registry.gauge("rally_pool_connections", "Connections.", {"state"});
  CHECK(registry.render() ==
        "# HELP rally_pool_connections Connections.\n"
        "# TYPE rally_pool_connections gauge\n");
}

TEST_CASE("HELP text escapes backslash and newline but not quotes", "[metrics]") {
  Registry registry;
  registry.gauge("g", "Line one\nsays \"C:\\temp\".");
  CHECK(registry.render() ==
        "# HELP g Line one\\nsays \"C:\\\\temp\".\n"
        "# TYPE g gauge\n"
        "g 0\n");
}

TEST_CASE("histograms expose cumulative buckets, +Inf, sum and count", "[metrics]") {
  Registry registry;
  auto& family = registry.histogram("rally_latency_seconds", "Latency.", {"method"}, {0.005, 0.1, 1});
  auto& rpc = family.labels({"Vote"});
  rpc.observe(0.001);
  rpc.observe(0.005);  // bounds are inclusive: le="0.005"
  rpc.observe(0.05);
  rpc.observe(0.5);
  rpc.observe(7);  // 7.556 is also the shortest round-trip form of the floating-point sum

  CHECK(registry.render() ==
        "# HELP rally_latency_seconds Latency.\n"
        "# TYPE rally_latency_seconds histogram\n"
        "rally_latency_seconds_bucket{method=\"Vote\",le=\"0.005\"} 2\n"
        "rally_latency_seconds_bucket{method=\"Vote\",le=\"0.1\"} 3\n"
        "rally_latency_seconds_bucket{method=\"Vote\",le=\"1\"} 4\n"
        "rally_latency_seconds_bucket{method=\"Vote\",le=\"+Inf\"} 5\n"
        "rally_latency_seconds_sum{method=\"Vote\"} 7.556\n"
        "rally_latency_seconds_count{method=\"Vote\"} 5\n");
}

TEST_CASE("an unlabelled histogram puts le alone in braces", "[metrics]") {
  Registry registry;
  registry.histogram("h", "H.", {}, {1}).labels().observe(2);
  CHECK(registry.render() ==
        "# HELP h H.\n"
        "# TYPE h histogram\n"
        "h_bucket{le=\"1\"} 0\n"
        "h_bucket{le=\"+Inf\"} 1\n"
        "h_sum 2\n"
        "h_count 1\n");
}

TEST_CASE("histogram snapshots are cumulative and NaN lands in +Inf only", "[metrics]") {
  Histogram histogram({1, 2});
  histogram.observe(-5);
  histogram.observe(1.5);
  histogram.observe(std::numeric_limits<double>::quiet_NaN());
  const auto snapshot = histogram.snapshot();
  CHECK(snapshot.upper_bounds == std::vector<double>{1, 2});
  CHECK(snapshot.cumulative_counts == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(snapshot.count == 3);
  CHECK(std::isnan(snapshot.sum));
}

TEST_CASE("histogram bounds must be finite and strictly increasing", "[metrics]") {
  CHECK_THROWS_AS(Histogram({1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(Histogram({2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(Histogram({1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  CHECK_NOTHROW(Histogram({}));
  Registry registry;
  CHECK_THROWS_AS(registry.histogram("h", "H.", {}, {0.5, 0.1}), std::invalid_argument);
}

TEST_CASE("latency buckets span 0.5 ms to 60 s in increasing order", "[metrics]") {
  const auto buckets = latency_buckets_seconds();
  REQUIRE(buckets.size() >= 10);
  CHECK(buckets.front() == 0.0005);
  CHECK(buckets.back() == 60);
  CHECK(std::is_sorted(buckets.begin(), buckets.end()));
  CHECK_NOTHROW(Histogram(buckets));
}

TEST_CASE("families are rendered in name order whatever their type", "[metrics]") {
  Registry registry;
  registry.gauge("b_gauge", "B.");
  registry.histogram("c_hist", "C.", {}, {1});
  registry.counter("a_total", "A.");
  const std::string text = registry.render();
  const auto a = text.find("# HELP a_total");
  const auto b = text.find("# HELP b_gauge");
  const auto c = text.find("# HELP c_hist");
  REQUIRE(a != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
}

TEST_CASE("the registry hands out one family per name", "[metrics]") {
  Registry registry;
  auto& first = registry.counter("rally_votes_total", "Votes.", {"model"});
  CHECK(&registry.counter("rally_votes_total", "Votes.", {"model"}) == &first);
  CHECK_THROWS_AS(registry.counter("rally_votes_total", "Votes.", {"provider"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.gauge("rally_votes_total", "Votes."), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("rally_votes_total", "Votes."), std::invalid_argument);

  auto& latency = registry.histogram("rally_latency_seconds", "Latency.");
  CHECK(&registry.histogram("rally_latency_seconds", "Latency.") == &latency);
  CHECK_THROWS_AS(registry.histogram("rally_latency_seconds", "Latency.", {}, {1, 2}), std::invalid_argument);
  // A histogram owns its _bucket, _sum and _count series.
  CHECK_THROWS_AS(registry.counter("rally_latency_seconds_count", "Clash."), std::invalid_argument);
  registry.gauge("rally_queue_count", "Queue length.");
  CHECK_THROWS_AS(registry.histogram("rally_queue", "Would also write rally_queue_count."),
                  std::invalid_argument);
}

TEST_CASE("metric and label names are validated", "[metrics]") {
  Registry registry;
  CHECK_NOTHROW(registry.counter("ok:name_1", "Colons are allowed in metric names."));
  CHECK_THROWS_AS(registry.counter("", "Empty."), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("1starts_with_digit", "X."), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("has-dash", "X."), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("has space", "X."), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("x1", "X.", {"has:colon"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("x2", "X.", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.counter("x3", "X.", {"a", "a"}), std::invalid_argument);
  CHECK_THROWS_AS(registry.histogram("x4", "X.", {"le"}), std::invalid_argument);
  CHECK_NOTHROW(registry.counter("x5", "le is an ordinary label outside histograms.", {"le"}));
  // A refused name leaves nothing behind.
  CHECK(registry.render().find("has-dash") == std::string::npos);
}

TEST_CASE("children are looked up with exactly as many values as labels", "[metrics]") {
  Registry registry;
  auto& family = registry.counter("c_total", "C.", {"a", "b"});
  CHECK_THROWS_AS(family.labels({"only-one"}), std::invalid_argument);
  CHECK_THROWS_AS(family.labels(), std::invalid_argument);
  CHECK_NOTHROW(family.labels({"x", "y"}));
}

TEST_CASE("concurrent updates from several threads add up exactly", "[metrics]") {
  Registry registry;
  auto& counter_family = registry.counter("c_total", "C.", {"worker"});
  auto& shared_counter = registry.counter("shared_total", "Shared.").labels();
  auto& gauge = registry.gauge("g", "G.").labels();
  auto& histogram = registry.histogram("h", "H.", {}, {0.5}).labels();

  constexpr int kThreads = 8;  // even: half of them update each labelled child
  constexpr int kIncrements = 20000;
  constexpr std::uint64_t kUpdates = std::uint64_t{kThreads} * kIncrements;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Looking children up concurrently must also be safe, not just updating them.
      auto& mine = counter_family.labels({std::to_string(t % 2)});
      for (int i = 0; i < kIncrements; ++i) {
        shared_counter.inc();
        mine.inc(0.5);
        gauge.inc();
        gauge.dec(0.25);
        histogram.observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }

  // Every partial sum here is a multiple of 0.25 far below 2^53, so the totals are exact.
  const double updates = static_cast<double>(kUpdates);
  CHECK(shared_counter.value() == updates);
  CHECK(counter_family.labels({"0"}).value() == updates / 2 * 0.5);
  CHECK(counter_family.labels({"1"}).value() == updates / 2 * 0.5);
  CHECK(gauge.value() == updates * 0.75);
  const auto snapshot = histogram.snapshot();
  CHECK(snapshot.count == kUpdates);
  CHECK(snapshot.cumulative_counts == std::vector<std::uint64_t>{kUpdates / 2, kUpdates});
  CHECK(snapshot.sum == updates / 2 * 1.25);
}

TEST_CASE("the global registry is one instance", "[metrics]") {
  CHECK(&Registry::global() == &Registry::global());
}

}  // namespace
}  // namespace rally::common::metrics
