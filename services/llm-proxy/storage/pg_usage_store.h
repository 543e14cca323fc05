// Usage records in PostgreSQL (llm_proxy.usage_records, migration 0002), written off the request path:
// record() only queues; one background thread inserts batches. A full queue or a database that stays
// unreachable costs records, never a request's latency. Losses are counted on /metrics
// (rally_llm_proxy_usage_records_dropped_total{reason}, rally_llm_proxy_usage_batches_failed_total, beside
// rally_llm_proxy_usage_records_written_total and the gauge rally_llm_proxy_usage_records_pending) and
// logged at most once per warning_interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "services/llm-proxy/storage/usage_store.h"

namespace rally::common {
class PgPool;
}

namespace rally::llm_proxy {

class PgUsageStore final : public UsageRecorder, public UsageStatsSource {
 public:
  struct Settings {
    // Records accepted but not yet written (queued or in the batch being written); more are dropped.
    std::size_t max_queue_records = 10000;
    // Records per INSERT (1-1000): one statement and one transaction per batch.
    std::size_t batch_size = 200;
    // How long a partial batch waits for more records before it is written anyway.
    std::chrono::milliseconds flush_interval{250};
    // Tries per batch while PostgreSQL is unavailable; then the batch is dropped so the queue moves on.
    std::uint32_t write_attempts = 6;
    // Wait before the second try, doubled before each further one up to max_retry_backoff.
    std::chrono::milliseconds retry_backoff{250};
    std::chrono::milliseconds max_retry_backoff{4000};
    // Limit of each statement (SET LOCAL statement_timeout), so a locked table cannot stall the writer.
    std::chrono::milliseconds statement_timeout{5000};
    // How long the destructor waits for queued records to be written before it drops them.
    std::chrono::milliseconds shutdown_timeout{5000};
    // Lost records are logged at most once per interval, with the counts since the last warning.
    std::chrono::milliseconds warning_interval{10000};
  };

  // What happened to the records given to this store (the metrics add up every store in the process).
  struct Counters {
    std::uint64_t accepted = 0;              // queued by record()
    std::uint64_t written = 0;               // committed to PostgreSQL
    std::uint64_t dropped_queue_full = 0;    // refused by record(): the queue was full (not in accepted)
    std::uint64_t dropped_write_failed = 0;  // accepted, then given up after write_attempts or rejected
    std::uint64_t dropped_shutdown = 0;      // accepted, still unwritten when shutdown_timeout ran out
    std::uint64_t failed_batches = 0;        // batches given up in whole or in part
    std::uint64_t pending = 0;               // accepted, not yet written or dropped

    bool operator==(const Counters&) const = default;
  };

  // Throws std::invalid_argument for settings out of range. The pool must outlive the store.
  PgUsageStore(common::PgPool& pool, Settings settings);
  // Waits up to shutdown_timeout for the queue to be written, drops what is left, stops the writer.
  ~PgUsageStore() override;
  PgUsageStore(const PgUsageStore&) = delete;
  PgUsageStore& operator=(const PgUsageStore&) = delete;

  // Queues the record and returns at once; drops it (counted) when the queue is full. Never throws.
  void record(UsageRecord record) override;

  // Blocks until every record accepted before the call is written or dropped (retries are bounded, so
  // this ends even while PostgreSQL is down). For tests and shutdown.
  void flush();
  // As flush(), giving up after `timeout`; true when everything was written or dropped in time.
  bool flush_for(std::chrono::milliseconds timeout);

  common::Result<std::vector<ModelUsageStats>> stats(const std::vector<std::string>& models,
                                                     std::chrono::system_clock::time_point from,
                                                     std::chrono::system_clock::time_point to) override;

  Counters counters() const;

 private:
  // kUnavailable is worth another try (connection, resources, shutdown); kRejected means bad data in some
  // record; kFailed is anything else, including a commit whose outcome is unknown.
  enum class BatchResult { kWritten, kUnavailable, kRejected, kFailed };
  struct BatchOutcome {
    std::size_t written = 0;
    bool interrupted = false;  // retries ended by shutdown
  };

  void run_writer();
  // Writes the batch, retrying while PostgreSQL is unavailable.
  BatchOutcome write_with_retries(const std::vector<UsageRecord>& batch);
  // One attempt: the whole batch in one INSERT and one transaction. Keeps the failure in last_failure_.
  BatchResult write_once(const std::vector<UsageRecord>& batch);
  // After the batch was rejected as a whole: each record alone, so one bad record loses only itself.
  std::size_t write_one_by_one(const std::vector<UsageRecord>& batch);
  void warn_about_losses_if_due(bool force);
  // Accepted records written or dropped so far (they resolve in acceptance order). Needs mutex_.
  std::uint64_t resolved() const;

  common::PgPool& pool_;
  const Settings settings_;

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;   // records to write, a flush, or stop
  std::condition_variable records_done_;  // resolved() grew
  std::deque<UsageRecord> queue_;
  // Write without waiting for full batches until resolved() reaches it.
  std::uint64_t flush_target_ = 0;
  bool stopping_ = false;
  Counters counters_;

  // The writer thread's own state.
  std::string last_failure_;
  std::uint64_t lost_at_last_warning_ = 0;
  std::chrono::steady_clock::time_point last_warning_{};

  std::thread writer_;  // last: started once everything above is initialised
};

}  // namespace rally::llm_proxy
