#include "services/scoring/domain/score_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace rally::scoring {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Where a trailing suffix (with the whitespace around it) starts, or npos.
std::size_t suffix_start(std::string_view name, std::string_view* number) {
  std::size_t end = name.size();
  while (end > 0 && is_space(name[end - 1])) --end;
  if (end == 0 || name[end - 1] != ')') return std::string_view::npos;
  std::size_t i = end - 1;  // at ')'
  const std::size_t number_end = i;
  std::size_t fraction_digits = 0;
  while (i > 0 && is_digit(name[i - 1])) --i, ++fraction_digits;
  if (fraction_digits == 0 || i == 0 || name[i - 1] != '.') return std::string_view::npos;
  --i;
  std::size_t integer_digits = 0;
  while (i > 0 && is_digit(name[i - 1])) --i, ++integer_digits;
  if (integer_digits == 0) return std::string_view::npos;
  const std::size_t number_start = i;
  constexpr std::string_view kOpen = "(SC:";
  if (i < kOpen.size() || name.substr(i - kOpen.size(), kOpen.size()) != kOpen) return std::string_view::npos;
  i -= kOpen.size();
  while (i > 0 && is_space(name[i - 1])) --i;
  if (number != nullptr) *number = name.substr(number_start, number_end - number_start);
  return i;
}

}  // namespace

std::string format_one_decimal(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest round-trip form in fixed notation: at most 309 integer digits or ~330 fraction digits.
  std::array<char, 512> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
  std::string_view text(buf.data(), ec == std::errc() ? static_cast<std::size_t>(end - buf.data()) : 0);
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const std::size_t dot = text.find('.');
  const std::string_view integer = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  // digits = the value in tenths, as decimal digits.
  std::string digits(integer);
  digits.push_back(fraction.empty() ? '0' : fraction[0]);
  if (fraction.size() >= 2 && fraction[1] >= '5') {
    std::size_t i = digits.size();
    while (i > 0 && digits[i - 1] == '9') digits[--i] = '0';
    if (i == 0) {
      digits.insert(digits.begin(), '1');
    } else {
      ++digits[i - 1];
    }
  }
  if (digits.size() < 2) digits.insert(digits.begin(), '0');
  const bool zero = std::all_of(digits.begin(), digits.end(), [](char c) { return c == '0'; });
  std::string out = negative && !zero ? "-" : "";
  out.append(digits, 0, digits.size() - 1);
  out.push_back('.');
  out.push_back(digits.back());
  return out;
}

double round_to_tenth(double value) {
  if (!std::isfinite(value)) return value;
  const std::string text = format_one_decimal(value);
  double out = 0;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return out;
}

double clamp_score(double score) {
  if (std::isnan(score)) return 0;
  return std::clamp(score, 0.0, 10.0);
}

bool is_valid_score(double score) {
  return std::isfinite(score) && score >= 0 && score <= 10;
}

std::string score_suffix(double score) {
  return "(SC:" + format_one_decimal(clamp_score(score)) + ")";
}

std::string strip_suffix(std::string_view name) {
  const std::size_t start = suffix_start(name, nullptr);
  return std::string(start == std::string_view::npos ? name : name.substr(0, start));
}

std::optional<double> parse_suffix(std::string_view name) {
  std::string_view number;
  if (suffix_start(name, &number) == std::string_view::npos) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size()) return std::nullopt;
  return value;
}

std::string add_suffix(std::string_view name, double score) {
  std::string base = strip_suffix(name);
  while (!base.empty() && is_space(base.back())) base.pop_back();
  if (base.empty()) return score_suffix(score);
  return base + " " + score_suffix(score);
}

std::string_view score_label(double score) {
  if (score >= 9) return "Exceptional";
  if (score >= 8) return "Excellent";
  if (score >= 7) return "Very Good";
  if (score >= 6) return "Good";
  if (score >= 5) return "Average";
  if (score >= 4) return "Below Average";
  if (score >= 3) return "Poor";
  return "Unacceptable";
}

}  // namespace rally::scoring
