#include "services/common/config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace rally::common {
namespace {

using namespace std::chrono_literals;
using Values = ConfigSource::Values;

ConfigSource env_only(Values env) {
  return ConfigSource::from_values({}, std::move(env));
}

// The full message of the ConfigError thrown by `f`; fails the test when nothing is thrown.
template <typename F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  FAIL("expected a ConfigError");
  return {};
}

// A config file that removes itself.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char pattern[] = "/tmp/rally_config_test_XXXXXX";
    const int fd = ::mkstemp(pattern);
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ConfigSource from_args(std::vector<const char*> args, std::vector<const char*> env = {}) {
  args.insert(args.begin(), "rally-test");
  env.push_back(nullptr);
  return ConfigSource::from_process(static_cast<int>(args.size()), args.data(), env.data());
}

TEST_CASE("flags override the environment, which overrides the file", "[config]") {
  const auto config =
      ConfigSource::from_values({{"RALLY_A", "file"}, {"RALLY_B", "file"}, {"RALLY_C", "file"}},
                                {{"RALLY_B", "env"}, {"RALLY_C", "env"}}, {{"RALLY_C", "flag"}});
  CHECK(config.get_string("RALLY_A", "default") == "file");
  CHECK(config.get_string("RALLY_B", "default") == "env");
  CHECK(config.get_string("RALLY_C", "default") == "flag");
  CHECK(config.get_string("RALLY_D", "default") == "default");
  CHECK(config.raw("RALLY_C") == "flag");
  CHECK_FALSE(config.raw("RALLY_D").has_value());
  CHECK(config.has("RALLY_A"));
  CHECK_FALSE(config.has("RALLY_D"));
}

TEST_CASE("a value set to empty is still set", "[config]") {
  const auto config = ConfigSource::from_values({{"RALLY_NAME", "from-file"}}, {{"RALLY_NAME", ""}});
  CHECK(config.get_string("RALLY_NAME", "default").empty());
  CHECK(config_error([&] { config.get_nonempty_string("RALLY_NAME", "default"); }) ==
        "RALLY_NAME: expected a non-empty value, got \"\"");
  CHECK(env_only({}).get_nonempty_string("RALLY_NAME", "default") == "default");
  CHECK(env_only({{"RALLY_NAME", "x"}}).get_nonempty_string("RALLY_NAME", "default") == "x");
}

TEST_CASE("get_int parses base-10 integers within inclusive bounds", "[config]") {
  CHECK(env_only({}).get_int("RALLY_N", 7, 1, 10) == 7);
  CHECK(env_only({{"RALLY_N", "1"}}).get_int("RALLY_N", 7, 1, 10) == 1);
  CHECK(env_only({{"RALLY_N", "10"}}).get_int("RALLY_N", 7, 1, 10) == 10);
  CHECK(env_only({{"RALLY_N", "-3"}}).get_int("RALLY_N", 0, -5, 5) == -3);
  CHECK(env_only({{"RALLY_N", "9223372036854775807"}})
            .get_int("RALLY_N", 0, 0, std::numeric_limits<std::int64_t>::max()) ==
        std::numeric_limits<std::int64_t>::max());

  CHECK(config_error([] {
          env_only({{"RALLY_N", "11"}}).get_int("RALLY_N", 7, 1, 10);
        }) == "RALLY_N: expected an integer from 1 to 10, got \"11\"");
  CHECK(config_error([] {
          env_only({{"RALLY_N", "0"}}).get_int("RALLY_N", 7, 1, 10);
        }) == "RALLY_N: expected an integer from 1 to 10, got \"0\"");
  CHECK(config_error([] {
          env_only({{"RALLY_N", "abc"}}).get_int("RALLY_N", 7, 1, std::numeric_limits<std::int64_t>::max());
        }) == "RALLY_N: expected an integer of at least 1, got \"abc\"");
  for (const char* bad : {"", " 5", "5 ", "5x", "+5", "0x10", "1e3", "2.0", "99999999999999999999"}) {
    INFO(bad);
    CHECK_THROWS_AS(env_only({{"RALLY_N", bad}}).get_int("RALLY_N", 7, 0, 1000), ConfigError);
  }
}

TEST_CASE("get_double parses finite numbers within inclusive bounds", "[config]") {
  CHECK(env_only({}).get_double("RALLY_K", 32, 0, 100) == 32);
  CHECK(env_only({{"RALLY_K", "0.25"}}).get_double("RALLY_K", 32, 0, 1) == 0.25);
  CHECK(env_only({{"RALLY_K", "1e2"}}).get_double("RALLY_K", 32, 0, 100) == 100);
  CHECK(env_only({{"RALLY_K", "-0.5"}}).get_double("RALLY_K", 0, -1, 1) == -0.5);

  CHECK(config_error([] {
          env_only({{"RALLY_K", "1.5"}}).get_double("RALLY_K", 0.5, 0, 1);
        }) == "RALLY_K: expected a number from 0 to 1, got \"1.5\"");
  for (const char* bad : {"", "abc", "nan", "inf", "-inf", "1.0.0", "0.5 "}) {
    INFO(bad);
    CHECK_THROWS_AS(env_only({{"RALLY_K", bad}}).get_double("RALLY_K", 0.5, -1e300, 1e300), ConfigError);
  }
}

TEST_CASE("get_bool accepts the usual spellings in any case", "[config]") {
  for (const char* yes : {"true", "TRUE", "True", "1", "yes", "YES", "on", "On"}) {
    INFO(yes);
    CHECK(env_only({{"RALLY_FLAG", yes}}).get_bool("RALLY_FLAG", false));
  }
  for (const char* no : {"false", "FALSE", "0", "no", "No", "off", "OFF"}) {
    INFO(no);
    CHECK_FALSE(env_only({{"RALLY_FLAG", no}}).get_bool("RALLY_FLAG", true));
  }
  CHECK(env_only({}).get_bool("RALLY_FLAG", true));
  CHECK(config_error([] {
          env_only({{"RALLY_FLAG", "maybe"}}).get_bool("RALLY_FLAG", false);
        }) == "RALLY_FLAG: expected true/false, 1/0, yes/no or on/off, got \"maybe\"");
  CHECK_THROWS_AS(env_only({{"RALLY_FLAG", ""}}).get_bool("RALLY_FLAG", false), ConfigError);
  CHECK_THROWS_AS(env_only({{"RALLY_FLAG", "y"}}).get_bool("RALLY_FLAG", false), ConfigError);
}

TEST_CASE("get_duration needs a unit and respects its bounds", "[config]") {
  const auto duration = [](const char* text) {
    return env_only({{"RALLY_T", text}}).get_duration("RALLY_T", 1s, 0ms, 24h);
  };
  CHECK(env_only({}).get_duration("RALLY_T", 1500ms, 0ms, 24h) == 1500ms);
  CHECK(duration("250ms") == 250ms);
  CHECK(duration("10s") == 10s);
  CHECK(duration("5m") == 5min);
  CHECK(duration("6h") == 6h);
  CHECK(duration("0ms") == 0ms);
  CHECK(duration("24h") == 24h);

  CHECK(config_error([] {
          env_only({{"RALLY_T", "10"}}).get_duration("RALLY_T", 1s, 1s, 1h);
        }) == "RALLY_T: expected a duration such as 250ms, 10s, 5m or 6h from 1s to 1h, got \"10\"");
  CHECK(config_error([] {
          env_only({{"RALLY_T", "2h"}}).get_duration("RALLY_T", 1s, 250ms, 90min);
        }) == "RALLY_T: expected a duration such as 250ms, 10s, 5m or 6h from 250ms to 90m, got \"2h\"");
  for (const char* bad : {"", "s", "1.5s", "-1s", "1 s", "1S", "1sec", "1d", "ms10", "99999999999999999h"}) {
    INFO(bad);
    CHECK_THROWS_AS(duration(bad), ConfigError);
  }
}

TEST_CASE("get_bytes accepts plain numbers and binary units", "[config]") {
  const auto bytes = [](const char* text) {
    return env_only({{"RALLY_SIZE", text}})
        .get_bytes("RALLY_SIZE", 0, 0, std::numeric_limits<std::uint64_t>::max());
  };
  CHECK(env_only({}).get_bytes("RALLY_SIZE", 4096, 0, 1 << 20) == 4096);
  CHECK(bytes("65536") == 65536);
  CHECK(bytes("512B") == 512);
  CHECK(bytes("64KiB") == 64ULL * 1024);
  CHECK(bytes("1MiB") == 1024ULL * 1024);
  CHECK(bytes("2GiB") == 2ULL * 1024 * 1024 * 1024);

  CHECK(
      config_error([] {
        env_only({{"RALLY_SIZE", "2MiB"}}).get_bytes("RALLY_SIZE", 0, 1024, 1 << 20);
      }) ==
      "RALLY_SIZE: expected a byte size such as 65536, 64KiB, 1MiB or 2GiB from 1KiB to 1MiB, got \"2MiB\"");
  // Decimal units are refused rather than guessed at.
  for (const char* bad : {"", "1MB", "1kb", "1 MiB", "1.5MiB", "-1", "KiB", "99999999999GiB"}) {
    INFO(bad);
    CHECK_THROWS_AS(bytes(bad), ConfigError);
  }
}

TEST_CASE("get_choice is exact and lists the choices", "[config]") {
  CHECK(env_only({}).get_choice("RALLY_MODE", "a", {"a", "b"}) == "a");
  CHECK(env_only({{"RALLY_MODE", "b"}}).get_choice("RALLY_MODE", "a", {"a", "b"}) == "b");
  CHECK(config_error([] {
          env_only({{"RALLY_MODE", "B"}}).get_choice("RALLY_MODE", "a", {"a", "b", "c"});
        }) == "RALLY_MODE: expected one of a, b, c, got \"B\"");
}

TEST_CASE("get_host_port parses host:port and names the key on error", "[config]") {
  CHECK(env_only({}).get_host_port("RALLY_GATEWAY_ADDR", "0.0.0.0:8080") == HostPort{"0.0.0.0", 8080});
  CHECK(
      env_only({{"RALLY_GATEWAY_ADDR", "arena:50051"}}).get_host_port("RALLY_GATEWAY_ADDR", "0.0.0.0:8080") ==
      HostPort{"arena", 50051});
  CHECK(config_error([] {
          env_only({{"RALLY_GATEWAY_ADDR", "abc"}}).get_host_port("RALLY_GATEWAY_ADDR", "x:1");
        }) == "RALLY_GATEWAY_ADDR: expected host:port with port 1-65535, got \"abc\"");
  CHECK(config_error([] {
          env_only({{"RALLY_GATEWAY_ADDR", "h:0"}}).get_host_port("RALLY_GATEWAY_ADDR", "x:1");
        }) == "RALLY_GATEWAY_ADDR: expected host:port with port 1-65535, got \"h:0\"");
  CHECK_THROWS_AS(env_only({}).get_host_port("RALLY_GATEWAY_ADDR", "not an address"), std::invalid_argument);
}

TEST_CASE("HostPort parses names, IPv4 and bracketed IPv6", "[config]") {
  CHECK(HostPort::parse("localhost:80") == HostPort{"localhost", 80});
  CHECK(HostPort::parse("127.0.0.1:65535") == HostPort{"127.0.0.1", 65535});
  CHECK(HostPort::parse("llm_proxy.rally.svc.cluster.local:50051") ==
        HostPort{"llm_proxy.rally.svc.cluster.local", 50051});
  CHECK(HostPort::parse("[::1]:9000") == HostPort{"::1", 9000});
  CHECK(HostPort::parse("[2001:db8::42]:443") == HostPort{"2001:db8::42", 443});
  CHECK(HostPort::parse("h:0", true) == HostPort{"h", 0});

  for (const char* bad :
       {"",        "host",         ":80",          "host:",    "host:0",          "host:65536",
        "host:-1", "host:+80",     "host:8o",      "host: 80", " host:80",        "::1:80",
        "[::1]80", "[::1]:",       "[nothost]:80", "[]:80",    "-bad.example:80", "bad-.example:80",
        "a..b:80", "has space:80", "999.1.1.1:80", "1.2.3:80", "host/path:80"}) {
    INFO(bad);
    CHECK_FALSE(HostPort::parse(bad).has_value());
  }
}

TEST_CASE("HostPort prints back what it parsed", "[config]") {
  for (const char* text : {"localhost:80", "10.0.0.1:5432", "[::1]:9000", "[2001:db8::42]:443"}) {
    INFO(text);
    const auto parsed = HostPort::parse(text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->to_string() == text);
  }
}

TEST_CASE("config files have KEY=VALUE lines, comments, blank lines and quoted values", "[config]") {
  const auto values = ConfigSource::parse_file_text(
      "# LlamaRally settings\n"
      "\n"
      "RALLY_PLAIN=value\n"
      "  RALLY_SPACED  =  padded value  \n"
      "RALLY_EMPTY=\n"
      "RALLY_COMMENTED=value # a comment\n"
      "RALLY_HASH=abc#def\n"
      "RALLY_QUOTED=\"  keeps # and spaces  \" # comment\n"
      "RALLY_ESCAPED=\"say \\\"hi\\\" \\\\ bye\"\n"
      "RALLY_EQUALS=postgres://u:p@h/db?sslmode=disable\n"
      "RALLY_CRLF=windows\r\n"
      "RALLY_LAST=no newline at end",
      "rally.conf");
  CHECK(values == Values{
                      {"RALLY_PLAIN", "value"},
                      {"RALLY_SPACED", "padded value"},
                      {"RALLY_EMPTY", ""},
                      {"RALLY_COMMENTED", "value"},
                      {"RALLY_HASH", "abc#def"},
                      {"RALLY_QUOTED", "  keeps # and spaces  "},
                      {"RALLY_ESCAPED", "say \"hi\" \\ bye"},
                      {"RALLY_EQUALS", "postgres://u:p@h/db?sslmode=disable"},
                      {"RALLY_CRLF", "windows"},
                      {"RALLY_LAST", "no newline at end"},
                  });
  CHECK(ConfigSource::parse_file_text("", "empty.conf").empty());
}

TEST_CASE("malformed config lines are reported as file:line", "[config]") {
  const auto error_for = [](const char* text) {
    return config_error([&] { ConfigSource::parse_file_text(text, "/etc/rally.conf"); });
  };
  CHECK(error_for("RALLY_A=1\n\njust words\n") ==
        "/etc/rally.conf:3: expected KEY=VALUE, got \"just words\"");
  CHECK(error_for("=value") ==
        "/etc/rally.conf:1: expected a key of letters, digits and '_' before '=', got \"\"");
  CHECK(error_for("RALLY-A=1") ==
        "/etc/rally.conf:1: expected a key of letters, digits and '_' before '=', got \"RALLY-A\"");
  CHECK(error_for("RALLY_A=\"open") == "/etc/rally.conf:1: expected a closing quote, got \"\\\"open\"");
  CHECK(error_for("RALLY_A=\"a\" trailing") ==
        "/etc/rally.conf:1: expected end of line or a comment after the closing quote, got \"trailing\"");
  CHECK(error_for("RALLY_A=\"bad \\n escape\"") ==
        "/etc/rally.conf:1: expected \\\" or \\\\ after a backslash in a quoted value, got \"\\\\n\"");
  CHECK(error_for("RALLY_A=1\nRALLY_A=2") ==
        "/etc/rally.conf:2: duplicate key RALLY_A (first set on line 1)");

  try {
    ConfigSource::parse_file_text("\n\noops", "x.conf");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "x.conf:3");
  }
}

TEST_CASE("from_process reads only RALLY_ variables and the three flags", "[config]") {
  const auto config =
      from_args({"--log-level=debug", "--log-format", "json"},
                {"RALLY_ARENA_ADDR=arena:1", "PATH=/usr/bin", "RALLY_EQ=a=b", "NOT_RALLY_X=1"});
  CHECK(config.get_string("RALLY_LOG_LEVEL", "info") == "debug");
  CHECK(config.get_string("RALLY_LOG_FORMAT", "human") == "json");
  CHECK(config.get_string("RALLY_ARENA_ADDR", "") == "arena:1");
  CHECK(config.get_string("RALLY_EQ", "") == "a=b");
  CHECK_FALSE(config.has("PATH"));
  CHECK_FALSE(config.has("NOT_RALLY_X"));
}

TEST_CASE("flags beat the environment", "[config]") {
  const auto config = from_args({"--log-level=warn"}, {"RALLY_LOG_LEVEL=trace"});
  CHECK(config.get_string("RALLY_LOG_LEVEL", "info") == "warn");
}

TEST_CASE("unknown flags, stray arguments and missing values name the flag", "[config]") {
  CHECK(config_error([] { from_args({"--help"}); }) ==
        "--help: expected one of --config=FILE, --log-format=human|json, --log-level=LEVEL, got \"--help\"");
  CHECK(config_error([] { from_args({"--verbose=1"}); }) ==
        "--verbose: expected one of --config=FILE, --log-format=human|json, --log-level=LEVEL, got "
        "\"--verbose=1\"");
  CHECK_THROWS_WITH(from_args({"positional"}),
                    Catch::StartsWith("positional: expected one of --config=FILE"));
  CHECK(config_error([] { from_args({"--config"}); }) ==
        "--config: expected a value after the flag, got none");
  CHECK(config_error([] {
          from_args({"--config", "--log-level=info"});
        }) == "--config: expected a value after the flag, got none");
  CHECK(config_error([] { from_args({"--log-level="}); }) ==
        "--log-level: expected a non-empty value, got \"\"");
}

TEST_CASE("the --config FILE flag loads the file beneath the environment and flags", "[config]") {
  const TempFile file("RALLY_A=file\nRALLY_B=file\nRALLY_LOG_LEVEL=debug\n");
  const std::string config_flag = "--config=" + file.path();
  for (const auto& args :
       {std::vector<const char*>{config_flag.c_str(), "--log-level=error"},
        std::vector<const char*>{"--config", file.path().c_str(), "--log-level", "error"}}) {
    const auto config = from_args(args, {"RALLY_B=env"});
    CHECK(config.get_string("RALLY_A", "") == "file");
    CHECK(config.get_string("RALLY_B", "") == "env");
    CHECK(config.get_string("RALLY_LOG_LEVEL", "") == "error");
  }
}

TEST_CASE("RALLY_CONFIG_FILE names the file when there is no --config", "[config]") {
  const TempFile file("RALLY_A=from-variable\n");
  const TempFile other("RALLY_A=from-flag\n");
  const std::string variable = "RALLY_CONFIG_FILE=" + file.path();
  const std::string flag = "--config=" + other.path();
  CHECK(from_args({}, {variable.c_str()}).get_string("RALLY_A", "") == "from-variable");
  CHECK(from_args({flag.c_str()}, {variable.c_str()}).get_string("RALLY_A", "") == "from-flag");
}

TEST_CASE("a config file that cannot be read or parsed is a ConfigError naming the file", "[config]") {
  CHECK(config_error([] { from_args({"--config=/nonexistent/rally.conf"}); }) ==
        "/nonexistent/rally.conf: cannot open config file: No such file or directory");
  CHECK(config_error([] { from_args({"--config=/"}); }) == "/: cannot read config file: Is a directory");

  const TempFile bad("RALLY_A=1\nbroken\n");
  const std::string flag = "--config=" + bad.path();
  CHECK(config_error([&] { from_args({flag.c_str()}); }) ==
        bad.path() + ":2: expected KEY=VALUE, got \"broken\"");
}

TEST_CASE("unread_file_keys lists the file keys nothing has looked up", "[config]") {
  const auto config = ConfigSource::from_values({{"RALLY_USED", "1"},
                                                 {"RALLY_TYPO", "2"},
                                                 {"RALLY_PROBED", "3"},
                                                 {"RALLY_LATER", "4"},
                                                 {"RALLY_BAD", "x"}},
                                                {{"RALLY_ENV_ONLY", "x"}});
  using Keys = std::vector<std::string>;
  CHECK(config.unread_file_keys() ==
        Keys{"RALLY_BAD", "RALLY_LATER", "RALLY_PROBED", "RALLY_TYPO", "RALLY_USED"});

  config.get_int("RALLY_USED", 0, 0, 10);
  CHECK(config.has("RALLY_PROBED"));
  config.get_string("RALLY_ENV_ONLY", "");
  // A key whose value is rejected was still read: its own error says what is wrong with it.
  CHECK_THROWS_AS(config.get_bool("RALLY_BAD", false), ConfigError);
  CHECK(config.unread_file_keys() == Keys{"RALLY_LATER", "RALLY_TYPO"});

  // A copy carries what was read so far and then tracks its own reads.
  const ConfigSource copy(config);  // NOLINT(performance-unnecessary-copy-initialization): under test
  copy.get_string("RALLY_LATER", "");
  CHECK(copy.unread_file_keys() == Keys{"RALLY_TYPO"});
  CHECK(config.unread_file_keys() == Keys{"RALLY_LATER", "RALLY_TYPO"});
}

TEST_CASE("ConfigError keeps the key apart from the message", "[config]") {
  const ConfigError error("RALLY_X", "expected y, got \"z\"");
  CHECK(error.key() == "RALLY_X");
  CHECK(std::string(error.what()) == "RALLY_X: expected y, got \"z\"");
}

}  // namespace
}  // namespace rally::common
