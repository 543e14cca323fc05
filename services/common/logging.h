// Process-wide logging on spdlog (kept out of this header: include <spdlog/spdlog.h> in .cc files that log).
// Every line carries the component name and the request id of the work the thread is doing.
#pragma once

#include <string>
#include <string_view>

namespace rally::common {

class ConfigSource;

enum class LogFormat { kHuman, kJson };

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::kHuman;

  // RALLY_LOG_LEVEL, RALLY_LOG_FORMAT (human|json; also --log-level / --log-format).
  static LogSettings from(const ConfigSource& config);
};

// Installs the default spdlog logger writing to stderr. Human: "2026-11-22T10:00:00.123Z info arena
// [req_ab12] message". JSON: one object per line with ts, level, component, request_id, msg (escaped).
void init_logging(std::string_view component, const LogSettings& settings);

// Sets the request id that log lines written by this thread carry, until destroyed (then restores the
// previous one). Handlers create one at the start of each request.
class ScopedRequestId {
 public:
  explicit ScopedRequestId(std::string request_id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  std::string previous_;
};

// Extra members for the JSON lines the calling thread logs while this lives (human lines ignore them): a
// rendered member list without braces, `"status":200,"route":"/x"`, values already escaped (json_escape).
// The gateway's access log line carries its fields this way. Restores the previous members when destroyed.
class ScopedLogFields {
 public:
  explicit ScopedLogFields(std::string members);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  std::string previous_;
};

// The format init_logging installed (human before it was called): lets a caller skip rendering fields no
// line will carry.
LogFormat installed_log_format();

// The calling thread's current request id, empty when none.
const std::string& current_request_id();

// `text` as the inside of a JSON string: quotes and backslashes escaped, control characters as \n, \t, ...
// or \u00XX, and bytes that are not well-formed UTF-8 replaced by \ufffd, so every JSON log line parses.
std::string json_escape(std::string_view text);

}  // namespace rally::common
