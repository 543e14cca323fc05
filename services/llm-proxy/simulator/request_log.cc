#include "services/llm-proxy/simulator/request_log.h"

#include <array>
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "services/common/utf8.h"

namespace rally::llm_simulator {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kCredentialHeaders = {"authorization", "x-api-key",
                                                                "proxy-authorization", "cookie"};
// Bookkeeping per record besides its strings, so a flood of empty requests is bounded too.
constexpr std::size_t kRecordOverhead = 256;

std::size_t record_bytes(const RequestRecord& record) {
  std::size_t bytes = kRecordOverhead + record.path.size() + record.model.size() + record.body.size();
  for (const auto& [name, value] : record.headers) bytes += name.size() + value.size();
  return bytes;
}

// Headers, paths and non-JSON bodies are whatever the client sent; the log must stay valid JSON.
json::string text_value(std::string_view text) {
  return json::string(common::is_valid_utf8(text) ? std::string(text) : common::repair_utf8(text));
}

json::value body_value(const std::string& body) {
  if (body.empty()) return nullptr;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) return text_value(body);
  return parsed;
}

json::object record_object(const RequestRecord& record) {
  json::object headers;
  for (const auto& [name, value] : record.headers) {
    const json::string key = text_value(name);
    if (json::value* existing = headers.if_contains(key)) {
      // A repeated header reads as one comma-separated list (RFC 9110 section 5.3).
      json::string& joined = existing->as_string();
      joined.append(", ");
      joined.append(text_value(value));
    } else {
      headers[key] = text_value(value);
    }
  }
  json::object object;
  object["id"] = record.id;
  object["method"] = text_value(record.method);
  object["path"] = text_value(record.path);
  object["model"] = record.model;
  object["stream"] = record.stream;
  object["headers"] = std::move(headers);
  object["body"] = body_value(record.body);
  object["status"] = record.status;
  object["fault"] = record.fault.empty() ? json::value(nullptr) : json::value(record.fault);
  object["outcome"] = record.outcome;
  object["started_at"] = format_utc(record.started_at);
  object["ended_at"] = record.ended_at ? json::value(format_utc(*record.ended_at)) : json::value(nullptr);
  object["chunks_sent"] = record.chunks_sent;
  return object;
}

}  // namespace

RequestLog::RequestLog(std::size_t max_entries, std::size_t max_bytes)
    : max_entries_(max_entries == 0 ? 1 : max_entries), max_bytes_(max_bytes) {}

std::uint64_t RequestLog::add(RequestRecord record) {
  for (auto& [name, value] : record.headers) {
    for (const std::string_view secret : kCredentialHeaders) {
      if (name == secret) value = "<redacted>";
    }
  }
  const std::lock_guard lock(mutex_);
  record.id = next_id_++;
  const std::uint64_t id = record.id;
  bytes_ += record_bytes(record);
  records_.push_back(std::move(record));
  // The newest record always stays, however large.
  while (records_.size() > 1 && (records_.size() > max_entries_ || bytes_ > max_bytes_)) {
    bytes_ -= record_bytes(records_.front());
    records_.pop_front();
  }
  return id;
}

RequestRecord* RequestLog::find(std::uint64_t id) {
  if (records_.empty() || id < records_.front().id || id > records_.back().id) return nullptr;
  return &records_[id - records_.front().id];
}

void RequestLog::count_chunk(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  if (RequestRecord* record = find(id)) ++record->chunks_sent;
}

void RequestLog::finish(std::uint64_t id, std::string_view outcome,
                        std::chrono::system_clock::time_point ended_at) {
  const std::lock_guard lock(mutex_);
  if (RequestRecord* record = find(id)) {
    record->outcome = std::string(outcome);
    record->ended_at = ended_at;
  }
}

std::vector<RequestRecord> RequestLog::snapshot() const {
  const std::lock_guard lock(mutex_);
  return {records_.begin(), records_.end()};
}

std::string RequestLog::to_json() const {
  // Serialised outside the lock: a large log must not stall the streams that update it.
  const std::vector<RequestRecord> records = snapshot();
  json::array list;
  list.reserve(records.size());
  for (const RequestRecord& record : records) list.push_back(record_object(record));
  return json::serialize(list);
}

std::size_t RequestLog::clear() {
  const std::lock_guard lock(mutex_);
  const std::size_t removed = records_.size();
  records_.clear();
  bytes_ = 0;
  return removed;
}

std::string format_utc(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(time.time_since_epoch());
  const auto seconds_part = floor<seconds>(since_epoch);
  const std::time_t t = static_cast<std::time_t>(seconds_part.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 40> buffer{};
  const auto millis = static_cast<int>((since_epoch - seconds_part).count());
  const int length =
      std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                    utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return std::string(buffer.data(), static_cast<std::size_t>(length));
}

}  // namespace rally::llm_simulator
