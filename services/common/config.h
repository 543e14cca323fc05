// Configuration sources and typed, validated look-ups. Each component keeps its own Settings struct with
// defaults and a `from(const ConfigSource&)` that reads its RALLY_... keys; a bad value throws ConfigError
// naming the key, and main() turns that into a non-zero exit.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rally::common {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& problem);
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

// host:port. Hosts are IPv4 literals, "localhost" or DNS names; IPv6 literals are written [::1]:port.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;

  std::string to_string() const;
  // Parses "host:port"; nullopt when malformed or the port is not in 1..65535 (0 allowed when allow_zero).
  static std::optional<HostPort> parse(std::string_view text, bool allow_zero = false);
  bool operator==(const HostPort&) const = default;
};

// Values by key, lowest precedence first: the optional config file (KEY=VALUE lines, '#' comments, blank
// lines; values may be double-quoted), then the environment, then command-line flags.
class ConfigSource {
 public:
  using Values = std::map<std::string, std::string, std::less<>>;

  // Command-line flags: --config=FILE (or RALLY_CONFIG_FILE), --log-format=human|json, --log-level=LEVEL.
  // Only RALLY_* environment variables are read. Throws ConfigError for an unknown flag or unreadable file.
  static ConfigSource from_process(int argc, const char* const* argv, const char* const* envp);
  // For tests and tools: explicit file lines (as read from a file) and environment values.
  static ConfigSource from_values(Values file_values, Values env_values, Values flag_values = {});
  // Parses config file text; throws ConfigError("<file>:<line>", ...) on a malformed line.
  static Values parse_file_text(std::string_view text, std::string_view file_name);

  ConfigSource(const ConfigSource& other);
  ConfigSource& operator=(const ConfigSource&) = delete;

  std::optional<std::string> raw(std::string_view key) const;
  bool has(std::string_view key) const { return raw(key).has_value(); }

  std::string get_string(std::string_view key, std::string_view fallback) const;
  // A value that must not be empty when set (an empty value is an error naming the key).
  std::string get_nonempty_string(std::string_view key, std::string_view fallback) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double get_double(std::string_view key, double fallback, double min, double max) const;
  // true/false, 1/0, yes/no, on/off (case-insensitive).
  bool get_bool(std::string_view key, bool fallback) const;
  // A number with a unit: ms, s, m or h ("250ms", "10s", "6h"); bounds inclusive.
  std::chrono::milliseconds get_duration(std::string_view key, std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds min, std::chrono::milliseconds max) const;
  // A byte size with an optional unit: B, KiB, MiB, GiB ("1MiB", "65536").
  std::uint64_t get_bytes(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                          std::uint64_t max) const;
  // One of `allowed` (case-sensitive).
  std::string get_choice(std::string_view key, std::string_view fallback,
                         std::initializer_list<std::string_view> allowed) const;
  HostPort get_host_port(std::string_view key, std::string_view fallback) const;

  // Config-file keys that no component has read so far: almost always typos, so binaries warn about them.
  std::vector<std::string> unread_file_keys() const;

 private:
  ConfigSource(Values file_values, Values env_values, Values flag_values);
  void mark_read(std::string_view key) const;

  Values file_values_;
  Values env_values_;
  Values flag_values_;
  mutable std::mutex read_mutex_;
  mutable std::set<std::string, std::less<>> read_keys_;
};

}  // namespace rally::common
