#include "services/common/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace rally::common::metrics {
namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_metric_name(std::string_view name) {
  return !name.empty() && (is_name_start(name.front()) || name.front() == ':') &&
         std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are reserved for Prometheus itself.
bool is_label_name(std::string_view name) {
  return !name.empty() && is_name_start(name.front()) &&
         std::all_of(name.begin(), name.end(), is_name_char) && !name.starts_with("__");
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    // Shortest form that round-trips: 3 rather than 3.000000, 0.005 rather than 0.0050000000000000001.
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
  }
}

void append_number(std::string& out, std::uint64_t value) {
  std::array<char, 24> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), result.ptr);
}

std::string format_number(double value) {
  std::string out;
  append_number(out, value);
  return out;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

// {a="x",b="y"} plus an optional trailing pair (the histogram's "le"); nothing when there are no labels.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) {
    return;
  }
  out.push_back('{');
  const auto append_pair = [&](std::string_view name, std::string_view value) {
    if (out.back() != '{') {
      out.push_back(',');
    }
    out.append(name);
    out.append("=\"");
    append_escaped(out, value, true);
    out.push_back('"');
  };
  for (std::size_t i = 0; i < names.size(); ++i) {
    append_pair(names[i], values[i]);
  }
  if (!extra_name.empty()) {
    append_pair(extra_name, extra_value);
  }
  out.push_back('}');
}

void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, double value) {
  out.append(name);
  append_labels(out, label_names, label_values);
  out.push_back(' ');
  append_number(out, value);
  out.push_back('\n');
}

void append_histogram(std::string& out, const std::string& name, const std::vector<std::string>& label_names,
                      const std::vector<std::string>& label_values, const Histogram& histogram) {
  const Histogram::Snapshot snapshot = histogram.snapshot();
  for (std::size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
    const bool is_inf = i == snapshot.upper_bounds.size();
    out.append(name).append("_bucket");
    append_labels(out, label_names, label_values, "le",
                  is_inf ? "+Inf" : format_number(snapshot.upper_bounds[i]));
    out.push_back(' ');
    append_number(out, snapshot.cumulative_counts[i]);
    out.push_back('\n');
  }
  out.append(name).append("_sum");
  append_labels(out, label_names, label_values);
  out.push_back(' ');
  append_number(out, snapshot.sum);
  out.push_back('\n');
  out.append(name).append("_count");
  append_labels(out, label_names, label_values);
  out.push_back(' ');
  append_number(out, snapshot.count);
  out.push_back('\n');
}

void validate_buckets(const std::vector<double>& upper_bounds) {
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) {
      throw std::invalid_argument("histogram bucket bounds must be finite (+Inf is implicit)");
    }
    if (i > 0 && upper_bounds[i] <= upper_bounds[i - 1]) {
      throw std::invalid_argument("histogram bucket bounds must be strictly increasing");
    }
  }
}

template <typename Metric>
std::unique_ptr<Metric> make_metric(const std::vector<double>& buckets) {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_unique<Histogram>(buckets);
  } else {
    return std::make_unique<Metric>();
  }
}

template <typename Metric>
constexpr std::string_view type_name(const Family<Metric>* /*family*/) {
  if constexpr (std::is_same_v<Metric, Counter>) {
    return "counter";
  }
  if constexpr (std::is_same_v<Metric, Gauge>) {
    return "gauge";
  }
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return "histogram";
  }
}

template <typename Metric>
using FamilyMap = std::map<std::string, std::unique_ptr<Family<Metric>>>;

// The sample names a family writes: a histogram "x" also owns x_bucket, x_sum and x_count.
std::vector<std::string> series_names(const std::string& name, bool histogram) {
  if (!histogram) {
    return {name};
  }
  return {name, name + "_bucket", name + "_sum", name + "_count"};
}

template <typename Metric>
bool any_collides(const FamilyMap<Metric>& families, const std::vector<std::string>& wanted) {
  constexpr bool histogram = std::is_same_v<Metric, Histogram>;
  return std::any_of(families.begin(), families.end(), [&](const auto& entry) {
    const auto taken = series_names(entry.first, histogram);
    return std::find_first_of(taken.begin(), taken.end(), wanted.begin(), wanted.end()) != taken.end();
  });
}

// Returns the family already registered under `name` (after checking it has the same shape) or registers
// a new one, refusing names whose samples would clash with another family's.
template <typename Metric>
Family<Metric>& find_or_register(FamilyMap<Metric>& same_type, bool name_clashes, std::string name,
                                 std::string help, std::vector<std::string> label_names,
                                 std::vector<double> buckets) {
  if (const auto existing = same_type.find(name); existing != same_type.end()) {
    Family<Metric>& family = *existing->second;
    if (family.label_names() != label_names || family.buckets() != buckets) {
      throw std::invalid_argument("metric \"" + name +
                                  "\" was already registered with other labels or buckets");
    }
    return family;
  }
  if (name_clashes) {
    throw std::invalid_argument("metric \"" + name +
                                "\" clashes with a metric of another type or its samples");
  }
  auto family =
      std::make_unique<Family<Metric>>(name, std::move(help), std::move(label_names), std::move(buckets));
  return *same_type.emplace(std::move(name), std::move(family)).first->second;
}

}  // namespace

void Counter::inc(double amount) {
  // Also rejects NaN, which would poison the counter for good.
  if (!(amount >= 0.0)) {
    throw std::invalid_argument("Counter::inc: a counter only goes up, got amount " + format_number(amount));
  }
  value_.fetch_add(amount, std::memory_order_relaxed);
}

void Gauge::inc(double amount) {
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  validate_buckets(upper_bounds_);
  bucket_counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1);
}

void Histogram::observe(double v) {
  // Buckets are "less than or equal": the first bound >= v. NaN compares false with everything, so it is
  // sent to +Inf explicitly rather than landing in the first bucket.
  const std::size_t index =
      std::isnan(v)
          ? upper_bounds_.size()
          : static_cast<std::size_t>(std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v) -
                                     upper_bounds_.begin());
  bucket_counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.cumulative_counts.reserve(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

template <typename Metric>
Family<Metric>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {
  if (!is_metric_name(name_)) {
    throw std::invalid_argument("invalid metric name \"" + name_ + "\"");
  }
  for (std::size_t i = 0; i < label_names_.size(); ++i) {
    const std::string& label = label_names_[i];
    if (!is_label_name(label)) {
      throw std::invalid_argument(name_ + ": invalid label name \"" + label + "\"");
    }
    if (std::is_same_v<Metric, Histogram> && label == "le") {
      throw std::invalid_argument(name_ + ": \"le\" is reserved for histogram buckets");
    }
    if (std::find(label_names_.begin(), label_names_.begin() + static_cast<std::ptrdiff_t>(i), label) !=
        label_names_.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw std::invalid_argument(name_ + ": duplicate label name \"" + label + "\"");
    }
  }
  if constexpr (std::is_same_v<Metric, Histogram>) {
    validate_buckets(buckets_);
  } else if (!buckets_.empty()) {
    throw std::invalid_argument(name_ + ": only histograms have buckets");
  }
  // A family without labels has exactly one child; creating it now exposes a 0 from the first scrape,
  // so rate() sees the first increment.
  if (label_names_.empty()) {
    children_.emplace(std::vector<std::string>{}, make_metric<Metric>(buckets_));
  }
}

template <typename Metric>
Metric& Family<Metric>::labels(const std::vector<std::string>& label_values) {
  if (label_values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(label_values.size()));
  }
  const std::lock_guard lock(mutex_);
  auto child = children_.find(label_values);
  if (child == children_.end()) {
    child = children_.emplace(label_values, make_metric<Metric>(buckets_)).first;
  }
  return *child->second;
}

template <typename Metric>
void Family<Metric>::render(std::string& out, std::string_view type) const {
  out.append("# HELP ").append(name_);
  if (!help_.empty()) {
    out.push_back(' ');
    append_escaped(out, help_, false);
  }
  out.append("\n# TYPE ").append(name_).append(" ").append(type).append("\n");
  const std::lock_guard lock(mutex_);
  for (const auto& [label_values, metric] : children_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      append_histogram(out, name_, label_names_, label_values, *metric);
    } else {
      append_sample(out, name_, label_names_, label_values, metric->value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry& Registry::global() {
  // Never destroyed: threads that outlive main() (gRPC's, detached ones) may still update metrics.
  static Registry* const registry = new Registry();
  return *registry;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  const std::lock_guard lock(mutex_);
  const auto wanted = series_names(name, false);
  const bool clashes =
      any_collides(counters_, wanted) || any_collides(gauges_, wanted) || any_collides(histograms_, wanted);
  return find_or_register(counters_, clashes, std::move(name), std::move(help), std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  const std::lock_guard lock(mutex_);
  const auto wanted = series_names(name, false);
  const bool clashes =
      any_collides(counters_, wanted) || any_collides(gauges_, wanted) || any_collides(histograms_, wanted);
  return find_or_register(gauges_, clashes, std::move(name), std::move(help), std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> label_names, std::vector<double> buckets) {
  const std::lock_guard lock(mutex_);
  const auto wanted = series_names(name, true);
  const bool clashes =
      any_collides(counters_, wanted) || any_collides(gauges_, wanted) || any_collides(histograms_, wanted);
  return find_or_register(histograms_, clashes, std::move(name), std::move(help), std::move(label_names),
                          std::move(buckets));
}

std::string Registry::render() const {
  using AnyFamily = std::variant<const Family<Counter>*, const Family<Gauge>*, const Family<Histogram>*>;
  std::vector<std::pair<std::string_view, AnyFamily>> families;
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, family] : counters_) {
    families.emplace_back(name, family.get());
  }
  for (const auto& [name, family] : gauges_) {
    families.emplace_back(name, family.get());
  }
  for (const auto& [name, family] : histograms_) {
    families.emplace_back(name, family.get());
  }
  std::sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, family] : families) {
    std::visit([&out](const auto* f) { f->render(out, type_name(f)); }, family);
  }
  return out;
}

}  // namespace rally::common::metrics
