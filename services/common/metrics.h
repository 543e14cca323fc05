// Prometheus metrics (text exposition format 0.0.4). Families are created once (usually at start-up) and
// their labelled children are cheap to update from any thread: counters and gauges are lock-free atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rally::common::metrics {

class Counter {
 public:
  void inc(double amount = 1.0);  // amount must be >= 0
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double amount = 1.0);
  void dec(double amount = 1.0) { inc(-amount); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted, finite; +Inf is implicit
  void observe(double v);
  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    std::uint64_t count = 0;
    double sum = 0.0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  // Per bucket (not cumulative), +Inf last. The count is their total, so _count always equals the +Inf
  // bucket in a scrape, as the exposition format requires.
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;
  std::atomic<double> sum_{0.0};
};

// Seconds buckets suited to request latencies from 0.5 ms to 60 s.
std::vector<double> latency_buckets_seconds();

// A named metric with label names; `labels(...)` returns the child for one combination of label values
// (created on first use, stable address for the registry's lifetime).
template <typename Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {});
  Metric& labels(const std::vector<std::string>& label_values);
  Metric& labels() { return labels(std::vector<std::string>{}); }

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& buckets() const { return buckets_; }
  void render(std::string& out, std::string_view type) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

class Registry {
 public:
  // The process-wide registry every binary exposes at /metrics.
  static Registry& global();

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; asking twice for the same name and type returns the same
  // family (labels must match); the same name with another type is a programming error (throws).
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> label_names = {},
                               std::vector<double> buckets = latency_buckets_seconds());

  // Text exposition format, families in name order, children in label order.
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family<Counter>>> counters_;
  std::map<std::string, std::unique_ptr<Family<Gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<Family<Histogram>>> histograms_;
};

// The content type of render()'s output.
inline constexpr std::string_view kTextFormatContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace rally::common::metrics
