// Faults programmed by tests through POST /_sim/faults: each armed fault applies to the next `count` API
// requests for a matching path and model, oldest armed first. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::llm_simulator {

struct Fault {
  // Answer with this HTTP status and the provider's error body for it.
  std::optional<int> status;
  // With `status`: a Retry-After header of this many seconds.
  std::optional<double> retry_after_seconds;
  // Accept the request, then send nothing for this long (a huge value stalls until the client leaves).
  std::chrono::milliseconds stall_before_first_byte{0};
  // Stream this many content chunks, then close the TCP connection without ending the chunked body.
  std::optional<std::uint32_t> drop_after_chunks;
  // Stream this many content chunks, then a data line that is not valid JSON, then end the body.
  std::optional<std::uint32_t> malformed_event_after_chunks;
  // Stream this many content chunks, then the provider's mid-stream error event, then end the body.
  std::optional<std::uint32_t> error_event_after_chunks;

  // What the request log reports as "fault:<kind>": status, drop_after_chunks, malformed_event,
  // error_event, or stall_before_first_byte when stalling is all the fault does.
  std::string_view kind() const;
};

struct ArmedFault {
  std::uint64_t id = 0;
  // Empty: both completion endpoints. Otherwise the one path it applies to: /v1/chat/completions,
  // /v1/messages or /api.json (models.dev, whose requests have no model).
  std::string path;
  std::string model = "*";  // glob over the request's model
  std::uint32_t remaining = 1;
  Fault fault;
};

// Stalls longer than this (about 31 years) are cut to it: "forever", without overflowing a clock.
inline constexpr std::chrono::milliseconds kMaxStall{1'000'000'000'000};

// Parses and validates the body of POST /_sim/faults (docs/llm-simulator.md).
common::Result<ArmedFault> parse_fault_request(std::string_view body);

// JSON for the control API: one armed fault, or a list of them.
std::string to_json(const ArmedFault& fault);
std::string to_json(const std::vector<ArmedFault>& faults);

class FaultPlan {
 public:
  // Assigns the fault's id and queues it behind those armed earlier.
  ArmedFault arm(ArmedFault fault);
  // Uses up one application of the oldest fault matching the request's path and model, if any.
  std::optional<Fault> take(std::string_view path, std::string_view model);
  std::vector<ArmedFault> armed() const;
  // Returns how many faults were removed.
  std::size_t clear();

 private:
  mutable std::mutex mutex_;
  std::deque<ArmedFault> faults_;
  std::uint64_t next_id_ = 1;
};

}  // namespace rally::llm_simulator
