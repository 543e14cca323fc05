#include "services/llm-proxy/simulator/models_dev_document.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rally::llm_simulator {
namespace {

using std::chrono::sys_days;
using std::chrono::sys_seconds;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
// Indexed by std::chrono::weekday::c_encoding(): Sunday first.
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

// Reads a date field by field; each step consumes its token or fails, leaving the cursor unusable.
class DateReader {
 public:
  explicit DateReader(std::string_view text) : rest_(text) {}

  bool literal(std::string_view expected) {
    if (!rest_.starts_with(expected)) return false;
    rest_.remove_prefix(expected.size());
    return true;
  }

  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, int* index = nullptr) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (literal(names[i])) {
        if (index != nullptr) *index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }

  // Exactly `count` ASCII digits.
  std::optional<int> digits(std::size_t count) {
    if (rest_.size() < count) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = rest_[i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    rest_.remove_prefix(count);
    return value;
  }

  // asctime's day: two digits, or a space and one digit.
  std::optional<int> padded_day() {
    if (literal(" ")) return digits(1);
    return digits(2);
  }

  // hh:mm:ss
  bool time_of_day(int& hour, int& minute, int& second) {
    const auto h = digits(2);
    if (!h || !literal(":")) return false;
    const auto m = digits(2);
    if (!m || !literal(":")) return false;
    const auto s = digits(2);
    if (!s) return false;
    hour = *h;
    minute = *m;
    second = *s;
    return true;
  }

  bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

std::optional<sys_seconds> make_time(int year, int month_index, int day, int hour, int minute, int second) {
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month_index + 1)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  // Second 60 is a leap second, which the grammar allows.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

int year_of(std::chrono::system_clock::time_point now) {
  return static_cast<int>(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<sys_seconds> parse_imf_fixdate(std::string_view text) {
  DateReader in(text);
  int month = 0, hour = 0, minute = 0, second = 0;
  if (!in.one_of(kDays) || !in.literal(", ")) return std::nullopt;
  const auto day = in.digits(2);
  if (!day || !in.literal(" ") || !in.one_of(kMonths, &month) || !in.literal(" ")) return std::nullopt;
  const auto year = in.digits(4);
  if (!year || !in.literal(" ") || !in.time_of_day(hour, minute, second) || !in.literal(" GMT") ||
      !in.done()) {
    return std::nullopt;
  }
  return make_time(*year, month, *day, hour, minute, second);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<sys_seconds> parse_rfc850_date(std::string_view text,
                                             std::chrono::system_clock::time_point now) {
  DateReader in(text);
  int month = 0, hour = 0, minute = 0, second = 0;
  if (!in.one_of(kLongDays) || !in.literal(", ")) return std::nullopt;
  const auto day = in.digits(2);
  if (!day || !in.literal("-") || !in.one_of(kMonths, &month) || !in.literal("-")) return std::nullopt;
  const auto two_digit_year = in.digits(2);
  if (!two_digit_year || !in.literal(" ") || !in.time_of_day(hour, minute, second) || !in.literal(" GMT") ||
      !in.done()) {
    return std::nullopt;
  }
  const int current_year = year_of(now);
  int year = current_year / 100 * 100 + *two_digit_year;
  if (year > current_year + 50) year -= 100;
  return make_time(year, month, *day, hour, minute, second);
}

// asctime: "Sun Nov  6 08:49:37 1994"
std::optional<sys_seconds> parse_asctime_date(std::string_view text) {
  DateReader in(text);
  int month = 0, hour = 0, minute = 0, second = 0;
  if (!in.one_of(kDays) || !in.literal(" ") || !in.one_of(kMonths, &month) || !in.literal(" ")) {
    return std::nullopt;
  }
  const auto day = in.padded_day();
  if (!day || !in.literal(" ") || !in.time_of_day(hour, minute, second) || !in.literal(" ")) {
    return std::nullopt;
  }
  const auto year = in.digits(4);
  if (!year || !in.done()) return std::nullopt;
  return make_time(*year, month, *day, hour, minute, second);
}

// The quoted part of an entity tag, which is what weak comparison compares: W/"x" and "x" alike give "x".
std::string_view opaque_tag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  return etag;
}

}  // namespace

common::Result<ModelsDevDocument> load_models_dev_document(const std::string& path,
                                                           std::chrono::system_clock::time_point now) {
  std::error_code ec;
  const auto modified = std::filesystem::last_write_time(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) return common::Error(common::ErrorCode::kInternal, "cannot read " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (!in && !in.eof()) return common::Error(common::ErrorCode::kInternal, "cannot read " + path);

  ModelsDevDocument document;
  document.bytes = std::move(contents).str();
  document.etag = strong_etag(document.bytes);
  const auto modified_at =
      std::chrono::floor<std::chrono::seconds>(std::chrono::file_clock::to_sys(modified));
  document.last_modified = std::min(modified_at, std::chrono::floor<std::chrono::seconds>(now));
  return document;
}

std::string strong_etag(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");  // only when OpenSSL itself is broken
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string etag = "\"";
  for (std::size_t i = 0; i < 16; ++i) {
    etag += kHex[digest[i] >> 4];
    etag += kHex[digest[i] & 0xf];
  }
  etag += '"';
  return etag;
}

std::string format_http_date(sys_seconds time) {
  const auto days = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date(days);
  const std::chrono::hh_mm_ss clock(time - days);
  std::array<char, 40> text{};
  const int length =
      std::snprintf(text.data(), text.size(), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                    kDays[std::chrono::weekday(days).c_encoding()].data(), static_cast<unsigned>(date.day()),
                    kMonths[static_cast<unsigned>(date.month()) - 1].data(), static_cast<int>(date.year()),
                    static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                    static_cast<int>(clock.seconds().count()));
  return std::string(text.data(), static_cast<std::size_t>(length));
}

std::optional<sys_seconds> parse_http_date(std::string_view text, std::chrono::system_clock::time_point now) {
  if (auto time = parse_imf_fixdate(text)) return time;
  if (auto time = parse_rfc850_date(text, now)) return time;
  return parse_asctime_date(text);
}

bool if_none_match_matches(std::string_view field_value, std::string_view etag) {
  const std::string_view wanted = opaque_tag(etag);
  std::string_view rest = field_value;
  const auto skip_to_next_member = [&rest] {
    const std::size_t comma = rest.find(',');
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
  };
  while (true) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t' || rest.front() == ',')) {
      rest.remove_prefix(1);
    }
    if (rest.empty()) return false;
    if (rest.front() == '*') return true;
    if (rest.starts_with("W/")) rest.remove_prefix(2);
    if (!rest.starts_with('"')) {
      skip_to_next_member();
      continue;
    }
    // etagc excludes DQUOTE, so the tag ends at the next one (commas inside it belong to it).
    const std::size_t close = rest.find('"', 1);
    if (close == std::string_view::npos) return false;
    if (rest.substr(0, close + 1) == wanted) return true;
    rest.remove_prefix(close + 1);
    skip_to_next_member();
  }
}

bool is_not_modified(const ModelsDevDocument& document, const std::optional<std::string>& if_none_match,
                     const std::optional<std::string>& if_modified_since,
                     std::chrono::system_clock::time_point now) {
  if (if_none_match) return if_none_match_matches(*if_none_match, document.etag);
  if (!if_modified_since) return false;
  const auto since = parse_http_date(*if_modified_since, now);
  return since && document.last_modified <= *since;
}

}  // namespace rally::llm_simulator
