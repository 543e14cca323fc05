#include "services/llm-proxy/storage/pg_usage_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <pqxx/except>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/transaction>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "services/common/metrics.h"
#include "services/common/pg_pool.h"
#include "services/common/utf8.h"

namespace rally::llm_proxy {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::system_clock;
using Parameter = std::optional<std::string>;  // nullopt is SQL NULL

namespace metrics = common::metrics;

// Process-wide families, shared by every store (production has one).
struct UsageStoreMetrics {
  metrics::Counter& written;
  metrics::Counter& dropped_queue_full;
  metrics::Counter& dropped_write_failed;
  metrics::Counter& dropped_shutdown;
  metrics::Counter& failed_batches;
  metrics::Gauge& pending;

  static UsageStoreMetrics& get() {
    static UsageStoreMetrics instance = [] {
      metrics::Registry& registry = metrics::Registry::global();
      auto& dropped =
          registry.counter("rally_llm_proxy_usage_records_dropped_total",
                           "Usage records lost: queue_full (refused while the writer was behind), "
                           "write_failed (PostgreSQL unavailable or rejected them), shutdown",
                           {"reason"});
      return UsageStoreMetrics{
          registry
              .counter("rally_llm_proxy_usage_records_written_total", "Usage records committed to PostgreSQL")
              .labels(),
          dropped.labels({"queue_full"}),
          dropped.labels({"write_failed"}),
          dropped.labels({"shutdown"}),
          registry
              .counter("rally_llm_proxy_usage_batches_failed_total",
                       "Batches of usage records given up in whole or in part")
              .labels(),
          registry
              .gauge("rally_llm_proxy_usage_records_pending",
                     "Usage records queued or being written to PostgreSQL")
              .labels(),
      };
    }();
    return instance;
  }
};

constexpr std::string_view kColumns =
    "request_id, caller, model, served_by, provider, streamed, simulated, outcome, error_kind, "
    "error_message, "
    "prompt_tokens, completion_tokens, usage_estimated, cost_usd, time_to_first_token_us, total_duration_us, "
    "tokens_per_second, attempts, started_at, prompt_text";
constexpr std::size_t kColumnCount = 20;
// PostgreSQL takes at most 65535 parameters per statement.
constexpr std::size_t kMaxBatchSize = 1000;

// The first line of a server error: later lines (DETAIL) may quote a whole failing row, prompt text
// included, which has no place in a log.
std::string first_line(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

// PostgreSQL text holds neither NUL nor malformed UTF-8 (error messages may quote upstream bytes); one such
// byte would make the whole batch fail, so they become U+FFFD.
std::string storable_text(std::string_view text) {
  if (common::is_valid_utf8(text) && text.find('\0') == std::string_view::npos) {
    return std::string(text);
  }
  std::string repaired = common::repair_utf8(text);
  std::string result;
  result.reserve(repaired.size());
  for (const char c : repaired) {
    if (c == '\0') {
      result += "\xEF\xBF\xBD";
    } else {
      result += c;
    }
  }
  return result;
}

Parameter text_or_null(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  return storable_text(text);
}

const char* boolean(bool value) {
  return value ? "true" : "false";
}

// Text that reads back as the same double.
std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// ISO 8601 in UTC with microseconds, PostgreSQL's timestamptz resolution.
std::string timestamp_text(system_clock::time_point time) {
  const auto since_epoch = std::chrono::floor<microseconds>(time.time_since_epoch());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const std::time_t whole_seconds = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  ::gmtime_r(&whole_seconds, &utc);
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>((since_epoch - seconds).count()));
  return buffer;
}

void append_parameters(const UsageRecord& record, std::vector<Parameter>& parameters) {
  parameters.emplace_back(storable_text(record.request_id));
  parameters.emplace_back(storable_text(record.caller));
  parameters.emplace_back(storable_text(record.model));
  parameters.push_back(text_or_null(record.served_by));
  parameters.emplace_back(storable_text(record.provider));
  parameters.emplace_back(boolean(record.streamed));
  parameters.emplace_back(boolean(record.simulated));
  parameters.emplace_back(std::string(usage_outcome_name(record.outcome)));
  parameters.push_back(text_or_null(record.error_kind));
  parameters.push_back(text_or_null(record.error_message));
  parameters.emplace_back(std::to_string(record.prompt_tokens));
  parameters.emplace_back(std::to_string(record.completion_tokens));
  parameters.emplace_back(boolean(record.usage_estimated));
  // A NaN would poison every sum it joins; an unknown cost counts as none.
  parameters.emplace_back(number(std::isfinite(record.cost_usd) ? record.cost_usd : 0.0));
  parameters.push_back(record.time_to_first_token
                           ? Parameter(std::to_string(record.time_to_first_token->count()))
                           : std::nullopt);
  parameters.emplace_back(std::to_string(record.total_duration.count()));
  parameters.push_back(record.tokens_per_second && std::isfinite(*record.tokens_per_second)
                           ? Parameter(number(*record.tokens_per_second))
                           : std::nullopt);
  parameters.emplace_back(std::to_string(record.attempts));
  parameters.emplace_back(timestamp_text(record.started_at));
  parameters.push_back(record.prompt_text ? Parameter(storable_text(*record.prompt_text)) : std::nullopt);
}

std::string insert_statement(std::size_t rows) {
  std::string sql = "INSERT INTO llm_proxy.usage_records (" + std::string(kColumns) + ") VALUES ";
  std::size_t parameter = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    sql += row == 0 ? "(" : ", (";
    for (std::size_t column = 0; column < kColumnCount; ++column) {
      sql += (column == 0 ? "$" : ", $") + std::to_string(++parameter);
    }
    sql += ')';
  }
  return sql;
}

std::string set_statement_timeout(milliseconds timeout) {
  return "SET LOCAL statement_timeout = " + std::to_string(timeout.count());
}

bool sqlstate_class_is(const pqxx::sql_error& error, std::string_view prefix) {
  return std::string_view(error.sqlstate()).starts_with(prefix);
}

PgUsageStore::Settings validated(PgUsageStore::Settings settings) {
  const auto require = [](bool condition, const char* message) {
    if (!condition) {
      throw std::invalid_argument(std::string("PgUsageStore: ") + message);
    }
  };
  require(settings.max_queue_records >= 1, "max_queue_records must be at least 1");
  require(settings.batch_size >= 1 && settings.batch_size <= kMaxBatchSize, "batch_size must be 1-1000");
  require(settings.flush_interval > milliseconds(0), "flush_interval must be positive");
  require(settings.write_attempts >= 1, "write_attempts must be at least 1");
  require(settings.retry_backoff >= milliseconds(0) && settings.max_retry_backoff >= settings.retry_backoff,
          "retry backoffs must satisfy 0 <= retry_backoff <= max_retry_backoff");
  require(settings.statement_timeout > milliseconds(0), "statement_timeout must be positive");
  require(settings.shutdown_timeout >= milliseconds(0), "shutdown_timeout must not be negative");
  return settings;
}

}  // namespace

PgUsageStore::PgUsageStore(common::PgPool& pool, Settings settings)
    : pool_(pool), settings_(validated(std::move(settings))) {
  UsageStoreMetrics::get();  // registered before the first scrape, not at the first record
  writer_ = std::thread([this] { run_writer(); });
}

PgUsageStore::~PgUsageStore() {
  flush_for(settings_.shutdown_timeout);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_all();
  writer_.join();
}

void PgUsageStore::record(UsageRecord record) {
  UsageStoreMetrics& metrics = UsageStoreMetrics::get();
  bool accepted = false;
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && counters_.accepted - resolved() < settings_.max_queue_records) {
      try {
        queue_.push_back(std::move(record));
        accepted = true;
      } catch (const std::exception&) {
        // Out of memory: accounting gives way, the request goes on.
      }
    }
    if (accepted) {
      ++counters_.accepted;
      // The writer sleeps until a batch is full or flush_interval passed; wake it only for a full batch.
      if (queue_.size() == settings_.batch_size) {
        wake_writer_.notify_one();
      }
    } else {
      ++counters_.dropped_queue_full;
    }
  }
  if (accepted) {
    metrics.pending.inc();
  } else {
    metrics.dropped_queue_full.inc();
  }
}

void PgUsageStore::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = counters_.accepted;
  flush_target_ = std::max(flush_target_, target);
  wake_writer_.notify_all();
  records_done_.wait(lock, [&] { return resolved() >= target; });
}

bool PgUsageStore::flush_for(milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = counters_.accepted;
  flush_target_ = std::max(flush_target_, target);
  wake_writer_.notify_all();
  return records_done_.wait_for(lock, timeout, [&] { return resolved() >= target; });
}

PgUsageStore::Counters PgUsageStore::counters() const {
  std::lock_guard lock(mutex_);
  Counters counters = counters_;
  counters.pending = counters.accepted - resolved();
  return counters;
}

std::uint64_t PgUsageStore::resolved() const {
  return counters_.written + counters_.dropped_write_failed + counters_.dropped_shutdown;
}

void PgUsageStore::run_writer() {
  UsageStoreMetrics& metrics = UsageStoreMetrics::get();
  std::unique_lock lock(mutex_);
  while (true) {
    wake_writer_.wait_for(lock, settings_.flush_interval, [this] {
      return stopping_ || queue_.size() >= settings_.batch_size || flush_target_ > resolved();
    });
    if (stopping_) {
      const std::size_t abandoned = queue_.size();
      queue_.clear();
      counters_.dropped_shutdown += abandoned;
      metrics.dropped_shutdown.inc(static_cast<double>(abandoned));
      metrics.pending.dec(static_cast<double>(abandoned));
      records_done_.notify_all();
      break;
    }
    if (!queue_.empty()) {
      const std::size_t count = std::min(queue_.size(), settings_.batch_size);
      std::vector<UsageRecord> batch(std::make_move_iterator(queue_.begin()),
                                     std::make_move_iterator(queue_.begin() + static_cast<long>(count)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(count));
      lock.unlock();
      const BatchOutcome outcome = write_with_retries(batch);
      lock.lock();

      const std::size_t lost = batch.size() - outcome.written;
      counters_.written += outcome.written;
      metrics.written.inc(static_cast<double>(outcome.written));
      if (outcome.interrupted) {
        counters_.dropped_shutdown += lost;
        metrics.dropped_shutdown.inc(static_cast<double>(lost));
      } else if (lost > 0) {
        counters_.dropped_write_failed += lost;
        ++counters_.failed_batches;
        metrics.dropped_write_failed.inc(static_cast<double>(lost));
        metrics.failed_batches.inc();
      }
      metrics.pending.dec(static_cast<double>(batch.size()));
      records_done_.notify_all();
    }
    lock.unlock();
    warn_about_losses_if_due(false);
    lock.lock();
  }
  lock.unlock();
  warn_about_losses_if_due(true);
}

PgUsageStore::BatchOutcome PgUsageStore::write_with_retries(const std::vector<UsageRecord>& batch) {
  milliseconds backoff = settings_.retry_backoff;
  for (std::uint32_t attempt = 1;; ++attempt) {
    switch (write_once(batch)) {
      case BatchResult::kWritten:
        return {batch.size(), false};
      case BatchResult::kRejected:
        return {batch.size() > 1 ? write_one_by_one(batch) : 0, false};
      case BatchResult::kFailed:
        return {0, false};
      case BatchResult::kUnavailable:
        break;
    }
    if (attempt >= settings_.write_attempts) {
      return {0, false};
    }
    std::unique_lock lock(mutex_);
    if (wake_writer_.wait_for(lock, backoff, [this] { return stopping_; })) {
      return {0, true};
    }
    backoff = std::min(backoff * 2, settings_.max_retry_backoff);
  }
}

PgUsageStore::BatchResult PgUsageStore::write_once(const std::vector<UsageRecord>& batch) {
  std::vector<Parameter> parameters;
  parameters.reserve(batch.size() * kColumnCount);
  for (const UsageRecord& record : batch) {
    append_parameters(record, parameters);
  }
  try {
    pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::work transaction(connection, "usage_records");
      transaction.exec0(set_statement_timeout(settings_.statement_timeout));
      transaction.exec_params0(insert_statement(batch.size()),
                               pqxx::prepare::make_dynamic_params(parameters));
      transaction.commit();
    });
    return BatchResult::kWritten;
  } catch (const common::DatabaseUnavailable& e) {
    last_failure_ = e.what();
    return BatchResult::kUnavailable;
  } catch (const pqxx::in_doubt_error& e) {
    // The commit may have happened: writing again could count the records twice.
    last_failure_ = "commit outcome unknown: " + first_line(e.what());
    return BatchResult::kFailed;
  } catch (const pqxx::statement_completion_unknown& e) {
    last_failure_ = "commit outcome unknown: " + first_line(e.what());
    return BatchResult::kFailed;
  } catch (const pqxx::transaction_rollback& e) {
    last_failure_ = first_line(e.what());  // serialization failure or deadlock: worth another try
    return BatchResult::kUnavailable;
  } catch (const pqxx::sql_error& e) {
    last_failure_ = first_line(e.what());
    // Connection trouble (08), lack of resources (53), shutdown or cancelled statement (57) pass; bad data
    // (22) or a violated constraint (23) is in some record, and retrying the same batch cannot help.
    if (sqlstate_class_is(e, "08") || sqlstate_class_is(e, "53") || sqlstate_class_is(e, "57")) {
      return BatchResult::kUnavailable;
    }
    if (sqlstate_class_is(e, "22") || sqlstate_class_is(e, "23")) {
      return BatchResult::kRejected;
    }
    return BatchResult::kFailed;
  } catch (const std::exception& e) {
    last_failure_ = first_line(e.what());
    return BatchResult::kFailed;
  }
}

std::size_t PgUsageStore::write_one_by_one(const std::vector<UsageRecord>& batch) {
  std::size_t written = 0;
  for (const UsageRecord& record : batch) {
    if (write_once({record}) == BatchResult::kWritten) {
      ++written;
    }
  }
  return written;
}

void PgUsageStore::warn_about_losses_if_due(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_warning_ < settings_.warning_interval) {
    return;
  }
  const Counters totals = counters();
  const std::uint64_t lost =
      totals.dropped_queue_full + totals.dropped_write_failed + totals.dropped_shutdown;
  if (lost == lost_at_last_warning_) {
    return;
  }
  spdlog::warn(
      "usage accounting lost {} records (in all: {} refused with a full queue, {} not written, {} at "
      "shutdown); last PostgreSQL failure: {}",
      lost - lost_at_last_warning_, totals.dropped_queue_full, totals.dropped_write_failed,
      totals.dropped_shutdown, last_failure_.empty() ? "none" : last_failure_);
  lost_at_last_warning_ = lost;
  last_warning_ = now;
}

common::Result<std::vector<ModelUsageStats>> PgUsageStore::stats(const std::vector<std::string>& models,
                                                                 system_clock::time_point from,
                                                                 system_clock::time_point to) {
  if (to < from) {
    return common::Error(common::ErrorCode::kInvalidRequest, "the statistics window ends before it starts");
  }
  std::vector<std::string> parameters{timestamp_text(from), timestamp_text(to)};
  std::string model_filter;
  for (const std::string& model : models) {
    parameters.push_back(storable_text(model));
    model_filter += (model_filter.empty() ? " AND model IN ($" : ", $") + std::to_string(parameters.size());
  }
  if (!model_filter.empty()) {
    model_filter += ')';
  }
  // FILTER picks each aggregate's records; percentile_cont skips NULLs and is NULL without input.
  const std::string sql =
      "SELECT model, count(*), "
      "count(*) FILTER (WHERE outcome = 'error'), "
      "count(*) FILTER (WHERE outcome = 'cancelled'), "
      "percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_first_token_us) "
      "  FILTER (WHERE streamed AND outcome = 'ok'), "
      "percentile_cont(0.99) WITHIN GROUP (ORDER BY time_to_first_token_us) "
      "  FILTER (WHERE streamed AND outcome = 'ok'), "
      "percentile_cont(0.5) WITHIN GROUP (ORDER BY tokens_per_second) FILTER (WHERE outcome = 'ok'), "
      "sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint, sum(cost_usd) "
      "FROM llm_proxy.usage_records "
      "WHERE started_at >= $1::timestamptz AND started_at < $2::timestamptz" +
      model_filter + " GROUP BY model ORDER BY model COLLATE \"C\"";
  try {
    return pool_.with_connection([&](pqxx::connection& connection) {
      pqxx::read_transaction transaction(connection, "usage_stats");
      transaction.exec0(set_statement_timeout(settings_.statement_timeout));
      const pqxx::result rows = transaction.exec_params(sql, pqxx::prepare::make_dynamic_params(parameters));
      std::vector<ModelUsageStats> all;
      all.reserve(rows.size());
      for (const pqxx::row& row : rows) {
        ModelUsageStats stats;
        stats.model = row[0].as<std::string>();
        stats.requests = row[1].as<std::uint64_t>();
        stats.errors = row[2].as<std::uint64_t>();
        stats.cancelled = row[3].as<std::uint64_t>();
        const std::uint64_t ended = stats.requests - stats.cancelled;
        stats.error_rate = ended == 0 ? 0.0 : static_cast<double>(stats.errors) / static_cast<double>(ended);
        if (!row[4].is_null()) {
          stats.p50_time_to_first_token = microseconds(std::llround(row[4].as<double>()));
        }
        if (!row[5].is_null()) {
          stats.p99_time_to_first_token = microseconds(std::llround(row[5].as<double>()));
        }
        if (!row[6].is_null()) {
          stats.p50_tokens_per_second = row[6].as<double>();
        }
        stats.prompt_tokens = row[7].as<std::uint64_t>();
        stats.completion_tokens = row[8].as<std::uint64_t>();
        stats.cost_usd = row[9].as<double>();
        all.push_back(std::move(stats));
      }
      return all;
    });
  } catch (const common::DatabaseUnavailable& e) {
    spdlog::warn("usage statistics: {}", e.what());
    return common::Error(common::ErrorCode::kDatabaseError,
                         "usage statistics are unavailable: " + std::string(e.what()));
  } catch (const pqxx::failure& e) {
    spdlog::error("usage statistics query failed: {}", first_line(e.what()));
    return common::Error(common::ErrorCode::kDatabaseError, "usage statistics query failed");
  }
}

}  // namespace rally::llm_proxy
