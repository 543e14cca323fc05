#include "services/critique/domain/critique_answer.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <optional>
#include <system_error>

namespace rally::critique {
namespace {

using common::Error;
using common::ErrorCode;

constexpr std::size_t kQuotedLength = 120;  // how much of a bad answer an error message quotes

Error bad_answer(std::string what, std::string_view text) {
  std::string quoted(text.substr(0, kQuotedLength));
  if (text.size() > kQuotedLength) quoted += "...";
  return Error(ErrorCode::kUpstreamError, "The critic's answer " + std::move(what), {{"answer", quoted}});
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// The end of the JSON object that opens at text[open] ('{'), past strings and nested braces; npos when it
// does not close.
std::size_t object_end(std::string_view text, std::size_t open) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// The first '{...}' of `text` that parses as a JSON object holding "score".
std::optional<boost::json::object> first_scored_object(std::string_view text) {
  for (std::size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    const std::size_t close = object_end(text, open);
    if (close == std::string_view::npos) return std::nullopt;
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text.substr(open, close - open + 1), ec);
    if (!ec && value.is_object() && value.as_object().contains("score")) return std::move(value.as_object());
  }
  return std::nullopt;
}

// "7", "7.5", "8/10" (a score out of 10), with spaces around.
std::optional<double> number_in_string(std::string_view text) {
  text = trim(text);
  if (text.ends_with("/10")) text = trim(text.substr(0, text.size() - 3));
  double number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return number;
}

std::optional<double> score_of(const boost::json::value& score) {
  if (score.is_double()) return score.get_double();
  if (score.is_int64()) return static_cast<double>(score.get_int64());
  if (score.is_uint64()) return static_cast<double>(score.get_uint64());
  if (score.is_string()) return number_in_string(score.get_string());
  return std::nullopt;
}

}  // namespace

common::Result<CritiqueAnswer> parse_critique_answer(std::string_view text) {
  const std::optional<boost::json::object> object = first_scored_object(text);
  if (!object) return bad_answer("holds no JSON object with a score", text);

  const std::optional<double> score = score_of(object->at("score"));
  if (!score || !std::isfinite(*score)) return bad_answer("has a score that is not a number", text);

  CritiqueAnswer answer;
  answer.score = std::clamp(*score, 0.0, 10.0);
  answer.clamped = answer.score != *score;
  if (const boost::json::value* description = object->if_contains("description");
      description != nullptr && !description->is_null()) {
    if (!description->is_string()) return bad_answer("has a description that is not a string", text);
    answer.description = std::string(trim(description->get_string()));
  }
  return answer;
}

}  // namespace rally::critique
