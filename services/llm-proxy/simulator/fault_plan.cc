#include "services/llm-proxy/simulator/fault_plan.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <utility>

#include "services/llm-proxy/simulator/json_number.h"
#include "services/llm-proxy/simulator/models_dev_document.h"
#include "services/llm-proxy/simulator/reply_rules.h"

namespace rally::llm_simulator {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

constexpr std::int64_t kMaxCount = 1'000'000'000;
constexpr std::int64_t kMaxChunks = 1'000'000;
constexpr double kMaxRetryAfterSeconds = 86'400;
constexpr std::array<std::string_view, 3> kFaultPaths = {"/v1/chat/completions", "/v1/messages",
                                                         kModelsDevPath};

bool applies_to(const ArmedFault& armed, std::string_view path, std::string_view model) {
  // A fault without a path stays with the completion endpoints: a background models.dev sync must not
  // take a fault a test armed for an LLM call.
  if (armed.path.empty() ? path == kModelsDevPath : armed.path != path) return false;
  return glob_match(armed.model, model);
}

Error invalid(std::string message) {
  return Error(ErrorCode::kInvalidRequest, std::move(message));
}

Result<std::int64_t> integer_field(const json::value& value, std::string_view name, std::int64_t min,
                                   std::int64_t max) {
  const auto number = as_integer(value);
  if (!number || *number < min || *number > max) {
    return invalid(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                   std::to_string(max));
  }
  return *number;
}

Result<Fault> parse_fault(const json::value& value) {
  const json::object* object = value.if_object();
  if (object == nullptr) return invalid("\"fault\" must be an object");
  Fault fault;
  int kinds = 0;
  for (const auto& [key, field] : *object) {
    if (key == "status") {
      auto status = integer_field(field, "fault.status", 400, 599);
      if (!status) return status.error();
      fault.status = static_cast<int>(status.value());
      ++kinds;
    } else if (key == "retry_after") {
      if (!field.is_number() || field.to_number<double>() < 0 ||
          field.to_number<double>() > kMaxRetryAfterSeconds) {
        return invalid("fault.retry_after must be a number of seconds from 0 to 86400");
      }
      fault.retry_after_seconds = field.to_number<double>();
    } else if (key == "stall_before_first_byte_ms") {
      // Any non-negative integer is accepted; "very large" means "until the client gives up".
      auto stall = integer_field(field, "fault.stall_before_first_byte_ms", 0, INT64_MAX);
      if (!stall) return stall.error();
      fault.stall_before_first_byte = std::min(std::chrono::milliseconds(stall.value()), kMaxStall);
    } else if (key == "drop_after_chunks" || key == "malformed_event_after_chunks" ||
               key == "error_event_after_chunks") {
      auto chunks = integer_field(field, "fault." + std::string(key), 0, kMaxChunks);
      if (!chunks) return chunks.error();
      const auto count = static_cast<std::uint32_t>(chunks.value());
      (key == "drop_after_chunks"              ? fault.drop_after_chunks
       : key == "malformed_event_after_chunks" ? fault.malformed_event_after_chunks
                                               : fault.error_event_after_chunks) = count;
      ++kinds;
    } else {
      return invalid("unknown fault \"" + std::string(key) +
                     "\" (expected status, retry_after, stall_before_first_byte_ms, drop_after_chunks, "
                     "malformed_event_after_chunks, error_event_after_chunks)");
    }
  }
  if (kinds > 1) {
    return invalid(
        "a fault has at most one of status, drop_after_chunks, malformed_event_after_chunks and "
        "error_event_after_chunks (stall_before_first_byte_ms combines with any)");
  }
  if (kinds == 0 && !object->contains("stall_before_first_byte_ms")) {
    return invalid(
        "the fault does nothing: give status, stall_before_first_byte_ms or a *_after_chunks field");
  }
  if (fault.retry_after_seconds && !fault.status) return invalid("fault.retry_after needs fault.status");
  return fault;
}

json::object fault_object(const ArmedFault& armed) {
  const Fault& fault = armed.fault;
  json::object description;
  if (fault.status) description["status"] = *fault.status;
  if (fault.retry_after_seconds) {
    // Whole seconds as an integer: Boost.JSON would print 1.0 as 1E0.
    const double seconds = *fault.retry_after_seconds;
    if (seconds == std::floor(seconds)) {
      description["retry_after"] = static_cast<std::int64_t>(seconds);
    } else {
      description["retry_after"] = seconds;
    }
  }
  if (fault.stall_before_first_byte.count() > 0) {
    description["stall_before_first_byte_ms"] = fault.stall_before_first_byte.count();
  }
  if (fault.drop_after_chunks) description["drop_after_chunks"] = *fault.drop_after_chunks;
  if (fault.malformed_event_after_chunks) {
    description["malformed_event_after_chunks"] = *fault.malformed_event_after_chunks;
  }
  if (fault.error_event_after_chunks)
    description["error_event_after_chunks"] = *fault.error_event_after_chunks;

  json::object object;
  object["id"] = armed.id;
  object["path"] = armed.path.empty() ? json::value(nullptr) : json::value(armed.path);
  object["model"] = armed.model;
  object["remaining"] = armed.remaining;
  object["kind"] = fault.kind();
  object["fault"] = std::move(description);
  return object;
}

}  // namespace

std::string_view Fault::kind() const {
  if (status) return "status";
  if (drop_after_chunks) return "drop_after_chunks";
  if (malformed_event_after_chunks) return "malformed_event";
  if (error_event_after_chunks) return "error_event";
  return "stall_before_first_byte";
}

Result<ArmedFault> parse_fault_request(std::string_view body) {
  boost::system::error_code ec;
  const json::value document = json::parse(body, ec);
  if (ec) return invalid("the body is not valid JSON: " + ec.message());
  const json::object* object = document.if_object();
  if (object == nullptr) return invalid("the body must be a JSON object");

  ArmedFault armed;
  bool has_fault = false;
  for (const auto& [key, field] : *object) {
    if (key == "path") {
      const std::string_view path = field.is_string() ? std::string_view(field.get_string()) : "";
      if (std::find(kFaultPaths.begin(), kFaultPaths.end(), path) == kFaultPaths.end()) {
        return invalid("\"path\" must be /v1/chat/completions, /v1/messages or /api.json");
      }
      armed.path = std::string(path);
    } else if (key == "model") {
      if (!field.is_string() || field.get_string().empty()) {
        return invalid("\"model\" must be a model name or a glob such as \"*\"");
      }
      armed.model = std::string(field.get_string());
    } else if (key == "count") {
      auto count = integer_field(field, "count", 1, kMaxCount);
      if (!count) return count.error();
      armed.remaining = static_cast<std::uint32_t>(count.value());
    } else if (key == "fault") {
      auto fault = parse_fault(field);
      if (!fault) return fault.error();
      armed.fault = fault.value();
      has_fault = true;
    } else {
      return invalid("unknown key \"" + std::string(key) + "\" (expected path, model, count, fault)");
    }
  }
  if (!has_fault) return invalid("\"fault\" is required");
  if (armed.path == kModelsDevPath && armed.model != "*") {
    return invalid("requests to /api.json have no model: leave \"model\" out");
  }
  return armed;
}

std::string to_json(const ArmedFault& fault) {
  return json::serialize(fault_object(fault));
}

std::string to_json(const std::vector<ArmedFault>& faults) {
  json::array list;
  for (const ArmedFault& fault : faults) list.push_back(fault_object(fault));
  return json::serialize(list);
}

ArmedFault FaultPlan::arm(ArmedFault fault) {
  const std::lock_guard lock(mutex_);
  fault.id = next_id_++;
  faults_.push_back(fault);
  return fault;
}

std::optional<Fault> FaultPlan::take(std::string_view path, std::string_view model) {
  const std::lock_guard lock(mutex_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!applies_to(*it, path, model)) continue;
    Fault fault = it->fault;
    if (--it->remaining == 0) faults_.erase(it);
    return fault;
  }
  return std::nullopt;
}

std::vector<ArmedFault> FaultPlan::armed() const {
  const std::lock_guard lock(mutex_);
  return {faults_.begin(), faults_.end()};
}

std::size_t FaultPlan::clear() {
  const std::lock_guard lock(mutex_);
  const std::size_t removed = faults_.size();
  faults_.clear();
  return removed;
}

}  // namespace rally::llm_simulator
