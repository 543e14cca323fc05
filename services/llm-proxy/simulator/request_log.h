// The API requests the simulator received, newest last, for tests to inspect through GET /_sim/requests:
// what the proxy really sent (headers, body) and how each exchange ended. Bounded by entry count and by
// total stored bytes, oldest evicted first. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rally::llm_simulator {

struct RequestRecord {
  std::uint64_t id = 0;  // assigned by the log, increasing from 1
  std::string method;
  std::string path;
  std::string model;  // from the body, empty when it had none
  bool stream = false;
  // Names lower-cased; the values of credential headers (authorization, x-api-key, ...) are "<redacted>".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int status = 0;     // the HTTP status answered (0 when the connection was closed without one)
  std::string fault;  // the kind of fault applied, empty for none
  // "in_progress", then "completed", "client_closed", "timed_out" or "fault:<kind>".
  std::string outcome = "in_progress";
  std::chrono::system_clock::time_point started_at;
  std::optional<std::chrono::system_clock::time_point> ended_at;
  std::uint64_t chunks_sent = 0;  // content chunks (deltas) written
};

class RequestLog {
 public:
  RequestLog(std::size_t max_entries, std::size_t max_bytes);

  // Stores the record (redacting credentials) and returns its id.
  std::uint64_t add(RequestRecord record);
  void count_chunk(std::uint64_t id);
  void finish(std::uint64_t id, std::string_view outcome, std::chrono::system_clock::time_point ended_at);

  std::vector<RequestRecord> snapshot() const;
  // A JSON array of {id, method, path, model, stream, headers, body, status, fault, outcome, started_at,
  // ended_at, chunks_sent}; a body that is JSON is embedded as JSON, any other as a string.
  std::string to_json() const;
  // Returns how many records were removed. Ids keep increasing.
  std::size_t clear();

 private:
  RequestRecord* find(std::uint64_t id);  // requires mutex_

  const std::size_t max_entries_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::deque<RequestRecord> records_;  // consecutive ids, oldest first
  std::size_t bytes_ = 0;
  std::uint64_t next_id_ = 1;
};

// ISO 8601 in UTC with milliseconds: "2026-11-22T10:00:00.123Z".
std::string format_utc(std::chrono::system_clock::time_point time);

}  // namespace rally::llm_simulator
