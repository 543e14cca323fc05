#include "services/common/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <system_error>
#include <utility>

namespace rally::common {
namespace {

constexpr std::string_view kWhitespace = " \t\r\f\v";
constexpr std::string_view kConfigFileKey = "RALLY_CONFIG_FILE";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Values appear quoted in messages so that empty values, stray spaces and control characters are visible.
std::string quoted(std::string_view value) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7f) {
      out.append("\\x");
      out.push_back(kHexDigits[byte >> 4]);
      out.push_back(kHexDigits[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

[[noreturn]] void fail(std::string_view key, std::string_view expected, std::string_view got) {
  throw ConfigError(std::string(key), "expected " + std::string(expected) + ", got " + quoted(got));
}

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  const char* const end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return value;
}

std::string format_number(double value) {
  std::array<char, 64> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return error == std::errc() ? std::string(buffer.data(), end) : std::to_string(value);
}
std::string format_number(std::int64_t value) {
  return std::to_string(value);
}

// " from 1 to 10", or a one-sided phrase when a bound is the type's limit (which nobody wants to read).
std::string describe_range(const std::string& min, const std::string& max, bool unbounded_below,
                           bool unbounded_above) {
  if (unbounded_below && unbounded_above) {
    return "";
  }
  if (unbounded_above) {
    return " of at least " + min;
  }
  if (unbounded_below) {
    return " of at most " + max;
  }
  return " from " + min + " to " + max;
}

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

constexpr std::array<Unit, 4> kDurationUnits{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
constexpr std::array<Unit, 4> kByteUnits{
    {{"GiB", 1ULL << 30}, {"MiB", 1ULL << 20}, {"KiB", 1ULL << 10}, {"B", 1}}};

// "<digits><unit>". An empty unit is accepted only when `unitless_factor` is given.
std::optional<std::uint64_t> parse_with_unit(std::string_view text, const std::array<Unit, 4>& units,
                                             std::optional<std::uint64_t> unitless_factor) {
  const auto digits_end = std::min(text.find_first_not_of("0123456789"), text.size());
  const auto count = parse_number<std::uint64_t>(text.substr(0, digits_end));
  if (!count) {
    return std::nullopt;
  }
  const std::string_view suffix = text.substr(digits_end);
  // A plain factor with 0 for "no such unit" (rather than an optional) also keeps GCC 12's -O3
  // -Wmaybe-uninitialized false positive away.
  std::uint64_t factor = suffix.empty() ? unitless_factor.value_or(0) : 0;
  for (const Unit& unit : units) {
    if (unit.suffix == suffix) {
      factor = unit.factor;
    }
  }
  std::uint64_t result = 0;
  if (factor == 0 || __builtin_mul_overflow(*count, factor, &result)) {
    return std::nullopt;
  }
  return result;
}

// The largest unit that divides the value exactly: 3600000 ms is "1h", 1536 bytes is "1536B".
std::string format_with_unit(std::uint64_t value, const std::array<Unit, 4>& units) {
  for (const Unit& unit : units) {
    if (value != 0 && value % unit.factor == 0) {
      return std::to_string(value / unit.factor) + std::string(unit.suffix);
    }
  }
  return std::to_string(value) + std::string(units.back().suffix);
}

bool is_config_key(std::string_view key) {
  if (key.empty() || (key.front() >= '0' && key.front() <= '9')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) { return is_ascii_alnum(c) || c == '_'; });
}

bool is_ip_literal(const std::string& text, int family) {
  std::array<unsigned char, 16> address{};
  return ::inet_pton(family, text.c_str(), address.data()) == 1;
}

// DNS names (letters, digits, '-', and '_' as used by container service names) or a dotted IPv4 literal.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    return is_ip_literal(std::string(host), AF_INET);
  }
  std::size_t label_start = 0;
  while (true) {
    const auto dot = host.find('.', label_start);
    const auto label = host.substr(label_start, dot == std::string_view::npos ? dot : dot - label_start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(),
                     [](char c) { return is_ascii_alnum(c) || c == '-' || c == '_'; })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    label_start = dot + 1;
  }
}

// One config file line, already trimmed and known not to be blank or a comment.
std::pair<std::string, std::string> parse_line(std::string_view line, const std::string& location) {
  const auto equals = line.find('=');
  if (equals == std::string_view::npos) {
    fail(location, "KEY=VALUE", line);
  }
  const std::string_view key = trim(line.substr(0, equals));
  if (!is_config_key(key)) {
    fail(location, "a key of letters, digits and '_' before '='", key);
  }

  const std::string_view after_equals = line.substr(equals + 1);
  const std::string_view rest = trim(after_equals);
  if (rest.empty() || rest.front() != '"') {
    // Unquoted: a '#' after whitespace starts a comment, so "KEY=value  # note" works; values that need
    // " #" are quoted.
    std::size_t comment = std::string_view::npos;
    for (std::size_t i = 1; i < after_equals.size(); ++i) {
      if (after_equals[i] == '#' && (after_equals[i - 1] == ' ' || after_equals[i - 1] == '\t')) {
        comment = i;
        break;
      }
    }
    return {std::string(key), std::string(trim(after_equals.substr(0, comment)))};
  }

  std::string value;
  for (std::size_t i = 1; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '"') {
      const std::string_view after = trim(rest.substr(i + 1));
      if (!after.empty() && after.front() != '#') {
        fail(location, "end of line or a comment after the closing quote", after);
      }
      return {std::string(key), std::move(value)};
    }
    if (c == '\\') {
      if (i + 1 == rest.size() || (rest[i + 1] != '"' && rest[i + 1] != '\\')) {
        fail(location, "\\\" or \\\\ after a backslash in a quoted value", rest.substr(i, 2));
      }
      value.push_back(rest[++i]);
    } else {
      value.push_back(c);
    }
  }
  fail(location, "a closing quote", rest);
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

std::string read_file(const std::string& path) {
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    throw ConfigError(path, "cannot open config file: " + std::generic_category().message(error));
  }
  std::string text;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    text.append(buffer.data(), n);
  }
  if (std::ferror(file.get())) {
    const int error = errno;
    throw ConfigError(path, "cannot read config file: " + std::generic_category().message(error));
  }
  return text;
}

struct FlagSpec {
  std::string_view flag;
  std::string_view key;
};

constexpr std::array<FlagSpec, 3> kFlags{{
    {"--config", kConfigFileKey},
    {"--log-format", "RALLY_LOG_FORMAT"},
    {"--log-level", "RALLY_LOG_LEVEL"},
}};

constexpr std::string_view kKnownFlags = "one of --config=FILE, --log-format=human|json, --log-level=LEVEL";

ConfigSource::Values parse_flags(int argc, const char* const* argv) {
  ConfigSource::Values values;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto equals = arg.find('=');
    const std::string_view name = arg.substr(0, equals);
    const auto spec =
        std::find_if(kFlags.begin(), kFlags.end(), [&](const FlagSpec& s) { return s.flag == name; });
    if (spec == kFlags.end()) {
      fail(name, kKnownFlags, arg);
    }

    std::string_view value;
    if (equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
      value = argv[++i];
    } else {
      throw ConfigError(std::string(name), "expected a value after the flag, got none");
    }
    if (value.empty()) {
      fail(name, "a non-empty value", value);
    }
    values.insert_or_assign(std::string(spec->key), std::string(value));
  }
  return values;
}

}  // namespace

ConfigError::ConfigError(std::string key, const std::string& problem)
    : std::runtime_error(key + ": " + problem), key_(std::move(key)) {}

std::string HostPort::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<HostPort> HostPort::parse(std::string_view text, bool allow_zero) {
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (!is_ip_literal(std::string(host), AF_INET6)) {
      return std::nullopt;
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (!is_host_name(host)) {
      return std::nullopt;
    }
  }
  const auto port = parse_number<std::uint32_t>(port_text);
  if (!port || *port > 65535 || (*port == 0 && !allow_zero)) {
    return std::nullopt;
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(*port)};
}

ConfigSource ConfigSource::from_process(int argc, const char* const* argv, const char* const* envp) {
  Values flag_values = parse_flags(argc, argv);

  Values env_values;
  for (const char* const* entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view variable = *entry;
    const auto equals = variable.find('=');
    if (!variable.starts_with("RALLY_") || equals == std::string_view::npos) {
      continue;
    }
    // emplace keeps the first of duplicated variables, as getenv() does.
    env_values.emplace(std::string(variable.substr(0, equals)), std::string(variable.substr(equals + 1)));
  }

  Values file_values;
  const Values& file_source = flag_values.contains(kConfigFileKey) ? flag_values : env_values;
  if (const auto path = file_source.find(kConfigFileKey); path != file_source.end()) {
    file_values = parse_file_text(read_file(path->second), path->second);
  }
  return ConfigSource(std::move(file_values), std::move(env_values), std::move(flag_values));
}

ConfigSource ConfigSource::from_values(Values file_values, Values env_values, Values flag_values) {
  return ConfigSource(std::move(file_values), std::move(env_values), std::move(flag_values));
}

ConfigSource::Values ConfigSource::parse_file_text(std::string_view text, std::string_view file_name) {
  Values values;
  std::map<std::string, std::size_t, std::less<>> first_seen_on;
  std::size_t line_number = 0;
  for (std::size_t start = 0; start < text.size();) {
    ++line_number;
    const auto newline = std::min(text.find('\n', start), text.size());
    const std::string_view line = trim(text.substr(start, newline - start));
    start = newline + 1;
    if (line.empty() || line.front() == '#') {
      continue;
    }

    const std::string location = std::string(file_name) + ":" + std::to_string(line_number);
    auto [key, value] = parse_line(line, location);
    if (const auto previous = first_seen_on.find(key); previous != first_seen_on.end()) {
      throw ConfigError(
          location, "duplicate key " + key + " (first set on line " + std::to_string(previous->second) + ")");
    }
    first_seen_on.emplace(key, line_number);
    values.emplace(std::move(key), std::move(value));
  }
  return values;
}

ConfigSource::ConfigSource(Values file_values, Values env_values, Values flag_values)
    : file_values_(std::move(file_values)),
      env_values_(std::move(env_values)),
      flag_values_(std::move(flag_values)) {}

ConfigSource::ConfigSource(const ConfigSource& other)
    : file_values_(other.file_values_), env_values_(other.env_values_), flag_values_(other.flag_values_) {
  const std::lock_guard lock(other.read_mutex_);
  read_keys_ = other.read_keys_;
}

void ConfigSource::mark_read(std::string_view key) const {
  const std::lock_guard lock(read_mutex_);
  if (!read_keys_.contains(key)) {
    read_keys_.emplace(key);
  }
}

std::optional<std::string> ConfigSource::raw(std::string_view key) const {
  mark_read(key);
  for (const Values* values : {&flag_values_, &env_values_, &file_values_}) {
    if (const auto found = values->find(key); found != values->end()) {
      return found->second;
    }
  }
  return std::nullopt;
}

std::string ConfigSource::get_string(std::string_view key, std::string_view fallback) const {
  auto value = raw(key);
  return value ? std::move(*value) : std::string(fallback);
}

std::string ConfigSource::get_nonempty_string(std::string_view key, std::string_view fallback) const {
  auto value = raw(key);
  if (!value) {
    return std::string(fallback);
  }
  if (value->empty()) {
    fail(key, "a non-empty value", *value);
  }
  return std::move(*value);
}

std::int64_t ConfigSource::get_int(std::string_view key, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) const {
  const auto value = raw(key);
  if (!value) {
    return fallback;
  }
  const auto number = parse_number<std::int64_t>(*value);
  if (!number || *number < min || *number > max) {
    using Limits = std::numeric_limits<std::int64_t>;
    fail(key,
         "an integer" + describe_range(format_number(min), format_number(max), min == Limits::min(),
                                       max == Limits::max()),
         *value);
  }
  return *number;
}

double ConfigSource::get_double(std::string_view key, double fallback, double min, double max) const {
  const auto value = raw(key);
  if (!value) {
    return fallback;
  }
  // from_chars also accepts "inf" and "nan", which no setting means.
  const auto number = parse_number<double>(*value);
  if (!number || !std::isfinite(*number) || *number < min || *number > max) {
    using Limits = std::numeric_limits<double>;
    fail(key,
         "a number" + describe_range(format_number(min), format_number(max), min <= Limits::lowest(),
                                     max >= Limits::max()),
         *value);
  }
  return *number;
}

bool ConfigSource::get_bool(std::string_view key, bool fallback) const {
  const auto value = raw(key);
  if (!value) {
    return fallback;
  }
  for (const std::string_view yes : {"true", "1", "yes", "on"}) {
    if (equals_ignoring_case(*value, yes)) {
      return true;
    }
  }
  for (const std::string_view no : {"false", "0", "no", "off"}) {
    if (equals_ignoring_case(*value, no)) {
      return false;
    }
  }
  fail(key, "true/false, 1/0, yes/no or on/off", *value);
}

std::chrono::milliseconds ConfigSource::get_duration(std::string_view key, std::chrono::milliseconds fallback,
                                                     std::chrono::milliseconds min,
                                                     std::chrono::milliseconds max) const {
  const auto value = raw(key);
  if (!value) {
    return fallback;
  }
  const auto millis = parse_with_unit(*value, kDurationUnits, std::nullopt);
  const auto in_range = [&](std::uint64_t ms) {
    return ms <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) &&
           static_cast<std::int64_t>(ms) >= min.count() && static_cast<std::int64_t>(ms) <= max.count();
  };
  if (!millis || !in_range(*millis)) {
    const auto format = [](std::chrono::milliseconds d) {
      return d.count() < 0 ? std::to_string(d.count()) + "ms"
                           : format_with_unit(static_cast<std::uint64_t>(d.count()), kDurationUnits);
    };
    using Limits = std::chrono::milliseconds;
    fail(key,
         "a duration such as 250ms, 10s, 5m or 6h" +
             describe_range(format(min), format(max), min == Limits::min(), max == Limits::max()),
         *value);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(*millis));
}

std::uint64_t ConfigSource::get_bytes(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                      std::uint64_t max) const {
  const auto value = raw(key);
  if (!value) {
    return fallback;
  }
  const auto bytes = parse_with_unit(*value, kByteUnits, 1);
  if (!bytes || *bytes < min || *bytes > max) {
    fail(key,
         "a byte size such as 65536, 64KiB, 1MiB or 2GiB" +
             describe_range(format_with_unit(min, kByteUnits), format_with_unit(max, kByteUnits), min == 0,
                            max == std::numeric_limits<std::uint64_t>::max()),
         *value);
  }
  return *bytes;
}

std::string ConfigSource::get_choice(std::string_view key, std::string_view fallback,
                                     std::initializer_list<std::string_view> allowed) const {
  auto value = raw(key);
  if (!value) {
    return std::string(fallback);
  }
  if (std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) {
    return std::move(*value);
  }
  std::string expected = "one of";
  const char* separator = " ";
  for (const std::string_view choice : allowed) {
    expected.append(separator).append(choice);
    separator = ", ";
  }
  fail(key, expected, *value);
}

HostPort ConfigSource::get_host_port(std::string_view key, std::string_view fallback) const {
  const auto value = raw(key);
  const std::string_view text = value ? std::string_view(*value) : fallback;
  auto parsed = HostPort::parse(text);
  if (!parsed) {
    if (!value) {
      throw std::invalid_argument(std::string(key) + ": the built-in default is not a valid host:port");
    }
    fail(key, "host:port with port 1-65535", *value);
  }
  return std::move(*parsed);
}

std::vector<std::string> ConfigSource::unread_file_keys() const {
  const std::lock_guard lock(read_mutex_);
  std::vector<std::string> unread;
  for (const auto& [key, value] : file_values_) {
    if (!read_keys_.contains(key)) {
      unread.push_back(key);
    }
  }
  return unread;
}

}  // namespace rally::common
