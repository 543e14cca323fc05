#include "services/common/logging.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "services/common/config.h"

namespace rally::common {
namespace {

// Redirects file descriptor 2, which spdlog's stderr sink writes to, into a temporary file.
class StderrCapture {
 public:
  StderrCapture() : file_(std::tmpfile()) {
    REQUIRE(file_ != nullptr);
    std::fflush(stderr);
    saved_fd_ = ::dup(STDERR_FILENO);
    REQUIRE(::dup2(::fileno(file_), STDERR_FILENO) == STDERR_FILENO);
  }
  ~StderrCapture() {
    restore();
    std::fclose(file_);
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  // What reached the file so far, without flushing anything.
  std::string written() const {
    std::string text(4096, '\0');
    const ssize_t n = ::pread(::fileno(file_), text.data(), text.size(), 0);
    text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return text;
  }

  // Everything logged so far, split into lines (without the newlines).
  std::vector<std::string> lines() {
    restore();
    std::rewind(file_);
    std::vector<std::string> result;
    std::string line;
    for (int c = std::fgetc(file_); c != EOF; c = std::fgetc(file_)) {
      if (c == '\n') {
        result.push_back(std::move(line));
        line.clear();
      } else {
        line.push_back(static_cast<char>(c));
      }
    }
    if (!line.empty()) {
      result.push_back(std::move(line));
    }
    return result;
  }

 private:
  void restore() {
    if (saved_fd_ < 0) {
      return;
    }
    spdlog::default_logger()->flush();  // lines still in the sink's block
    std::fflush(stderr);
    ::dup2(saved_fd_, STDERR_FILENO);
    ::close(saved_fd_);
    saved_fd_ = -1;
  }

  std::FILE* file_;
  int saved_fd_ = -1;
};

// A POSIX TZ far from UTC (no tzdata needed), so a local-time timestamp could not pass for UTC.
class ForeignTimeZone {
 public:
  ForeignTimeZone() {
    if (const char* tz = std::getenv("TZ")) {
      previous_ = tz;
    }
    ::setenv("TZ", "RLY-9", 1);
    ::tzset();
  }
  ~ForeignTimeZone() {
    if (previous_) {
      ::setenv("TZ", previous_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  ForeignTimeZone(const ForeignTimeZone&) = delete;
  ForeignTimeZone& operator=(const ForeignTimeZone&) = delete;

 private:
  std::optional<std::string> previous_;
};

// Seconds between a "2026-11-22T10:00:00.123Z" timestamp and now.
double seconds_from_now(const std::string& timestamp) {
  std::tm tm{};
  REQUIRE(::strptime(timestamp.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  return std::difftime(::timegm(&tm), std::time(nullptr));
}

const std::regex kTimestamp(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

TEST_CASE("json_escape escapes quotes, backslashes and control characters", "[logging]") {
  CHECK(json_escape("") == "");
  CHECK(json_escape("plain text") == "plain text");
  CHECK(json_escape("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(json_escape("C:\\temp") == "C:\\\\temp");
  CHECK(json_escape("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(json_escape(std::string_view("\0", 1)) == "\\u0000");
  CHECK(json_escape("\x01\x08\x0c\x1b\x1f") == "\\u0001\\u0008\\u000c\\u001b\\u001f");
  CHECK(json_escape("\x7f/") == "\x7f/");  // JSON needs neither DEL nor '/' escaped
}

TEST_CASE("json_escape keeps valid UTF-8 and replaces invalid bytes", "[logging]") {
  CHECK(json_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x99") ==
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\xa6\x99");
  CHECK(json_escape("\x80") == "\\ufffd");                                   // stray continuation byte
  CHECK(json_escape("ab\xc3") == "ab\\ufffd");                               // truncated at the end
  CHECK(json_escape("\xc3(") == "\\ufffd(");                                 // lead byte without continuation
  CHECK(json_escape("\xc0\xaf") == "\\ufffd\\ufffd");                        // overlong '/'
  CHECK(json_escape("\xed\xa0\x80") == "\\ufffd\\ufffd\\ufffd");             // UTF-16 surrogate
  CHECK(json_escape("\xf4\x90\x80\x80") == "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  CHECK(json_escape("\xf5\xff") == "\\ufffd\\ufffd");
}

TEST_CASE("every byte string escapes to a JSON string that parses back", "[logging]") {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) {
    all_ascii.push_back(static_cast<char>(c));
  }
  const std::string valid = all_ascii + "\xc3\xa9\xf0\x9f\xa6\x99";
  CHECK(nlohmann::json::parse("\"" + json_escape(valid) + "\"").get<std::string>() == valid);

  const std::string invalid = "ok\xff\xfe\x80 end";
  CHECK(nlohmann::json::parse("\"" + json_escape(invalid) + "\"").get<std::string>() ==
        "ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
}

TEST_CASE("JSON log lines carry ts, level, component, request id and the escaped message", "[logging]") {
  const ForeignTimeZone time_zone;
  init_logging("arena", LogSettings{"info", LogFormat::kJson});
  StderrCapture capture;
  {
    const ScopedRequestId request_id("req_ab12");
    spdlog::info("vote {} said \"tie\"\n\\ {}", 42, "caf\xc3\xa9\x01");
    spdlog::warn("slow");
  }
  spdlog::error("no request");
  spdlog::debug("below the level");
  const auto lines = capture.lines();
  REQUIRE(lines.size() == 3);

  const auto first = nlohmann::json::parse(lines[0]);
  CHECK(first.size() == 5);
  const std::string ts = first.at("ts");
  CHECK(std::regex_match(ts, kTimestamp));
  CHECK(std::abs(seconds_from_now(ts)) < 60);  // UTC, not the 9-hours-off local time
  CHECK(first.at("level") == "info");
  CHECK(first.at("component") == "arena");
  CHECK(first.at("request_id") == "req_ab12");
  CHECK(first.at("msg") == "vote 42 said \"tie\"\n\\ caf\xc3\xa9\x01");

  const auto second = nlohmann::json::parse(lines[1]);
  CHECK(second.at("level") == "warn");
  CHECK(second.at("request_id") == "req_ab12");
  const auto third = nlohmann::json::parse(lines[2]);
  CHECK(third.at("level") == "error");
  CHECK(third.at("request_id") == "");
  CHECK(third.at("msg") == "no request");
}

TEST_CASE("ScopedLogFields add members to JSON lines only, nest and restore", "[logging]") {
  init_logging("gateway", LogSettings{"info", LogFormat::kJson});
  CHECK(installed_log_format() == LogFormat::kJson);
  StderrCapture capture;
  {
    const ScopedLogFields fields(R"("status":200,"token":")" + json_escape("ops \"blue\"") + '"');
    spdlog::info("GET / 200");
    {
      const ScopedLogFields inner(R"("status":404)");
      spdlog::info("inner");
    }
    spdlog::info("restored");
  }
  spdlog::info("none");
  const auto lines = capture.lines();
  REQUIRE(lines.size() == 4);
  const auto first = nlohmann::json::parse(lines[0]);
  CHECK(first.at("msg") == "GET / 200");
  CHECK(first.at("status") == 200);
  CHECK(first.at("token") == "ops \"blue\"");
  const auto inner = nlohmann::json::parse(lines[1]);
  CHECK(inner.at("status") == 404);
  CHECK_FALSE(inner.contains("token"));
  CHECK(nlohmann::json::parse(lines[2]).at("status") == 200);
  CHECK(nlohmann::json::parse(lines[3]).size() == 5);

  init_logging("gateway", LogSettings{"info", LogFormat::kHuman});
  CHECK(installed_log_format() == LogFormat::kHuman);
  StderrCapture human;
  {
    const ScopedLogFields fields(R"("status":200)");
    spdlog::info("plain");
  }
  const auto human_lines = human.lines();
  REQUIRE(human_lines.size() == 1);
  CHECK(human_lines[0].ends_with("] plain"));
}

TEST_CASE("human log lines read as time, level, component, request id in brackets, message", "[logging]") {
  const ForeignTimeZone time_zone;
  init_logging("llm-proxy", LogSettings{"debug", LogFormat::kHuman});
  StderrCapture capture;
  {
    const ScopedRequestId request_id("req_ab12");
    spdlog::debug("calling {}", "provider");
  }
  spdlog::critical("100% down");
  spdlog::trace("below the level");
  const auto lines = capture.lines();
  REQUIRE(lines.size() == 2);

  const std::regex line(R"((\S+) (\S+) llm-proxy \[([^\]]*)\] (.*))");
  std::smatch match;
  REQUIRE(std::regex_match(lines[0], match, line));
  CHECK(std::regex_match(match[1].str(), kTimestamp));
  CHECK(std::abs(seconds_from_now(match[1].str())) < 60);
  CHECK(match[2] == "debug");
  CHECK(match[3] == "req_ab12");
  CHECK(match[4] == "calling provider");

  REQUIRE(std::regex_match(lines[1], match, line));
  CHECK(match[2] == "critical");
  CHECK(match[3] == "-");
  CHECK(match[4] == "100% down");
}

TEST_CASE("a component name is taken literally, not as a pattern", "[logging]") {
  init_logging("odd%v\"name", LogSettings{"info", LogFormat::kJson});
  StderrCapture capture;
  spdlog::info("m");
  const auto lines = capture.lines();
  REQUIRE(lines.size() == 1);
  CHECK(nlohmann::json::parse(lines[0]).at("component") == "odd%v\"name");
}

TEST_CASE("lines reach stderr in blocks: warnings at once with what came before, others shortly",
          "[logging]") {
  init_logging("arena", LogSettings{"info", LogFormat::kHuman});
  StderrCapture capture;
  spdlog::info("first line");
  spdlog::warn("second line");
  // flush_on(warn): both are out when the warning call returns.
  CHECK(capture.written().find("first line") != std::string::npos);
  CHECK(capture.written().find("second line") != std::string::npos);
  spdlog::info("third line");
  bool arrived = false;
  for (int i = 0; i < 100 && !arrived; ++i) {  // the sink's timer writes it (every 100 ms)
    arrived = capture.written().find("third line") != std::string::npos;
    if (!arrived) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(arrived);
  CHECK(capture.lines().size() == 3);
}

TEST_CASE("init_logging refuses a level it does not know", "[logging]") {
  CHECK_THROWS_AS(init_logging("x", LogSettings{"verbose", LogFormat::kHuman}), std::invalid_argument);
}

TEST_CASE("ScopedRequestId nests, restores, and is per thread", "[logging]") {
  CHECK(current_request_id().empty());
  {
    const ScopedRequestId outer("req_outer");
    CHECK(current_request_id() == "req_outer");
    {
      const ScopedRequestId inner("req_inner");
      CHECK(current_request_id() == "req_inner");
      std::string seen_by_other_thread = "unset";
      std::thread([&] { seen_by_other_thread = current_request_id(); }).join();
      CHECK(seen_by_other_thread.empty());
    }
    CHECK(current_request_id() == "req_outer");
  }
  CHECK(current_request_id().empty());
}

TEST_CASE("LogSettings reads RALLY_LOG_LEVEL and RALLY_LOG_FORMAT", "[logging]") {
  const auto defaults = LogSettings::from(ConfigSource::from_values({}, {}));
  CHECK(defaults.level == "info");
  CHECK(defaults.format == LogFormat::kHuman);

  const auto set = LogSettings::from(
      ConfigSource::from_values({}, {{"RALLY_LOG_LEVEL", "trace"}}, {{"RALLY_LOG_FORMAT", "json"}}));
  CHECK(set.level == "trace");
  CHECK(set.format == LogFormat::kJson);

  CHECK_THROWS_WITH(
      LogSettings::from(ConfigSource::from_values({}, {{"RALLY_LOG_LEVEL", "warning"}})),
      Catch::StartsWith("RALLY_LOG_LEVEL: expected one of trace, debug, info, warn, error, critical, "
                        "off, got \"warning\""));
  CHECK_THROWS_WITH(LogSettings::from(ConfigSource::from_values({}, {{"RALLY_LOG_FORMAT", "xml"}})),
                    "RALLY_LOG_FORMAT: expected one of human, json, got \"xml\"");
}

}  // namespace
}  // namespace rally::common
