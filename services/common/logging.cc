#include "services/common/logging.h"

#include <pthread.h>
#include <signal.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>

#include "services/common/config.h"
#include "services/common/utf8.h"

namespace rally::common {
namespace {

// Lines reach stderr in blocks: one write(2) per line, made under the logger's lock, cost the gateway a
// third of its throughput with the access log on (docs/benchmarks.md, "Scoring"). A block is written when
// it fills, at the latest kFlushInterval after a line, and at once for warnings and worse (flush_on).
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr std::size_t kBlockBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kFlushInterval{100};

  BufferedStderrSink() {
    buffer_.reserve(kBlockBytes);
    flusher_ = std::jthread([this](const std::stop_token& stop) { flush_periodically(stop); });
  }
  ~BufferedStderrSink() override {
    flusher_.request_stop();
    flusher_.join();
    flush();  // the lines of the last interval, at exit
  }
  BufferedStderrSink(const BufferedStderrSink&) = delete;
  BufferedStderrSink& operator=(const BufferedStderrSink&) = delete;

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    buffer_.append(line.data(), line.size());
    if (buffer_.size() >= kBlockBytes) write_block();
  }
  void flush_() override { write_block(); }

 private:
  // Under base_sink's mutex.
  void write_block() {
    std::size_t written = 0;
    while (written < buffer_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, buffer_.data() + written, buffer_.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: the lines cannot go anywhere
      written += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }

  void flush_periodically(const std::stop_token& stop) {
    // Whatever mask the process set, shutdown signals must never land on this thread.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, stop, kFlushInterval, [] { return false; })) {
      if (stop.stop_requested()) return;
      flush();
    }
  }

  std::string buffer_;
  std::jthread flusher_;
};

thread_local std::string t_request_id;
thread_local std::string t_log_fields;
std::atomic<LogFormat> g_installed_format{LogFormat::kHuman};

// Appends the escaped text to a std::string or an spdlog memory buffer; runs of characters that need no
// escaping are copied in one append.
template <typename Out>
void append_json_escaped(std::string_view text, Out& out) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::size_t run_start = 0;
  std::size_t i = 0;
  const auto flush_run = [&] { out.append(text.data() + run_start, text.data() + i); };
  const auto emit = [&](std::string_view escape, std::size_t consumed) {
    flush_run();
    out.append(escape.data(), escape.data() + escape.size());
    i += consumed;
    run_start = i;
  };
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        emit("\\\"", 1);
        continue;
      case '\\':
        emit("\\\\", 1);
        continue;
      case '\n':
        emit("\\n", 1);
        continue;
      case '\r':
        emit("\\r", 1);
        continue;
      case '\t':
        emit("\\t", 1);
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      const std::array<char, 6> escape{'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 0xF]};
      emit(std::string_view(escape.data(), escape.size()), 1);
    } else if (c < 0x80) {
      ++i;
    } else if (const std::size_t length = utf8_sequence_length(text, i); length != 0) {
      i += length;
    } else {
      emit("\\ufffd", 1);
    }
  }
  flush_run();
}

void append_text(std::string_view text, spdlog::memory_buf_t& dest) {
  dest.append(text.data(), text.data() + text.size());
}

// The configured level names (spdlog's own say "warning" and "err"), the same in both formats.
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

spdlog::level::level_enum parse_level(std::string_view name) {
  for (const auto level :
       {spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
        spdlog::level::err, spdlog::level::critical, spdlog::level::off}) {
    if (level_name(level) == name) {
      return level;
    }
  }
  throw std::invalid_argument("unknown log level \"" + std::string(name) + "\"");
}

class LevelFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    append_text(level_name(msg.level), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelFlag>(); }
};

// Reads the thread-local id: spdlog formats synchronously on the thread that logs (no async logger).
class RequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  explicit RequestIdFlag(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& /*msg*/, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    if (format_ == LogFormat::kJson) {
      append_json_escaped(t_request_id, dest);
    } else {
      append_text(t_request_id.empty() ? std::string_view("-") : std::string_view(t_request_id), dest);
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RequestIdFlag>(format_);
  }

 private:
  LogFormat format_;
};

class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// The thread's ScopedLogFields, after a comma (JSON lines only).
class LogFieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& /*msg*/, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    if (t_log_fields.empty()) return;
    dest.push_back(',');
    append_text(t_log_fields, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LogFieldsFlag>(); }
};

// Flags spdlog leaves free: level name, request id, JSON-escaped message, extra JSON members.
constexpr char kLevelFlag = '&';
constexpr char kRequestIdFlag = '*';
constexpr char kJsonMessageFlag = '?';
constexpr char kLogFieldsFlag = '!';

// Text placed literally in a pattern, where '%' introduces a flag.
std::string pattern_literal(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '%') {
      out.push_back('%');
    }
    out.push_back(c);
  }
  return out;
}

std::string make_pattern(std::string_view component, LogFormat format) {
  static constexpr std::string_view kTimestamp = "%Y-%m-%dT%H:%M:%S.%eZ";
  if (format == LogFormat::kHuman) {
    return std::string(kTimestamp) + " %" + kLevelFlag + " " + pattern_literal(component) + " [%" +
           kRequestIdFlag + "] %v";
  }
  return R"({"ts":")" + std::string(kTimestamp) + R"(","level":"%)" + kLevelFlag + R"(","component":")" +
         pattern_literal(json_escape(component)) + R"(","request_id":"%)" + kRequestIdFlag + R"(","msg":"%)" +
         kJsonMessageFlag + R"("%)" + kLogFieldsFlag + "}";
}

}  // namespace

LogSettings LogSettings::from(const ConfigSource& config) {
  LogSettings settings;
  settings.level = config.get_choice("RALLY_LOG_LEVEL", settings.level,
                                     {"trace", "debug", "info", "warn", "error", "critical", "off"});
  settings.format = config.get_choice("RALLY_LOG_FORMAT", "human", {"human", "json"}) == "json"
                        ? LogFormat::kJson
                        : LogFormat::kHuman;
  return settings;
}

void init_logging(std::string_view component, const LogSettings& settings) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc, "\n");
  formatter->add_flag<LevelFlag>(kLevelFlag)
      .add_flag<RequestIdFlag>(kRequestIdFlag, settings.format)
      .add_flag<JsonMessageFlag>(kJsonMessageFlag)
      .add_flag<LogFieldsFlag>(kLogFieldsFlag)
      .set_pattern(make_pattern(component, settings.format));

  auto sink = std::make_shared<BufferedStderrSink>();
  sink->set_formatter(std::move(formatter));
  auto logger = std::make_shared<spdlog::logger>(std::string(component), std::move(sink));
  logger->set_level(parse_level(settings.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  g_installed_format.store(settings.format, std::memory_order_relaxed);
}

LogFormat installed_log_format() {
  return g_installed_format.load(std::memory_order_relaxed);
}

ScopedLogFields::ScopedLogFields(std::string members)
    : previous_(std::exchange(t_log_fields, std::move(members))) {}

ScopedLogFields::~ScopedLogFields() {
  t_log_fields = std::move(previous_);
}

ScopedRequestId::ScopedRequestId(std::string request_id)
    : previous_(std::exchange(t_request_id, std::move(request_id))) {}

ScopedRequestId::~ScopedRequestId() {
  t_request_id = std::move(previous_);
}

const std::string& current_request_id() {
  return t_request_id;
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_json_escaped(text, out);
  return out;
}

}  // namespace rally::common
