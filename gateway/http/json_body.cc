#include "gateway/http/json_body.h"

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <utility>

#include "services/common/utf8.h"

namespace rally::gateway::http {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;

// A field path quoted back to the client: bounded, and valid UTF-8 even when the key it came from is not.
constexpr std::size_t kMaxFieldPathBytes = 128;

std::string printable_path(std::string_view path) {
  if (path.empty()) {
    return "body";
  }
  return common::repair_utf8(path.substr(0, kMaxFieldPathBytes));
}

// Walks the parsed value for strings (values and keys) that are too long or not UTF-8; stops at the first.
// The parser has bounded the depth, so recursion is bounded too.
class StringChecker {
 public:
  explicit StringChecker(const JsonLimits& limits) : limits_(limits) {}

  std::optional<Error> check(const json::value& value) {
    path_.clear();
    visit(value);
    return std::move(found_);
  }

 private:
  void visit(const json::value& value) {
    if (found_) {
      return;
    }
    switch (value.kind()) {
      case json::kind::string:
        return check_text(value.get_string());
      case json::kind::array: {
        const std::size_t mark = path_.size();
        std::size_t index = 0;
        for (const json::value& element : value.get_array()) {
          path_ += (mark == 0 ? "body[" : "[") + std::to_string(index++) + "]";
          visit(element);
          if (found_) {
            return;
          }
          path_.resize(mark);
        }
        return;
      }
      case json::kind::object: {
        const std::size_t mark = path_.size();
        for (const auto& member : value.get_object()) {
          if (mark != 0) {
            path_ += '.';
          }
          path_.append(member.key().data(), member.key().size());
          check_text(member.key());
          visit(member.value());
          if (found_) {
            return;
          }
          path_.resize(mark);
        }
        return;
      }
      default:
        return;
    }
  }

  void check_text(json::string_view text) {
    if (found_) {
      return;
    }
    const std::string_view bytes(text.data(), text.size());
    if (bytes.size() > limits_.max_string_bytes) {
      const std::string field = printable_path(path_);
      const std::string limit = std::to_string(limits_.max_string_bytes);
      found_ = Error(ErrorCode::kInvalidRequest,
                     "The string at " + field + " is longer than the limit of " + limit + " bytes",
                     {{"field", field}, {"reason", "string_too_long"}, {"max_string_bytes", limit}});
      return;
    }
    if (!common::is_valid_utf8(bytes)) {
      const std::string field = printable_path(path_);
      found_ = Error(ErrorCode::kInvalidRequest, "The string at " + field + " is not valid UTF-8",
                     {{"field", field}, {"reason", "invalid_utf8"}});
    }
  }

  const JsonLimits& limits_;
  std::string path_;
  std::optional<Error> found_;
};

// Not JSON at all (nullopt from `limit_error`), or JSON that breaks a limit.
struct Parsed {
  std::optional<json::value> value;
  std::optional<Error> limit_error;
  boost::system::error_code syntax_error;
};

Parsed parse(std::string_view body, const JsonLimits& limits) {
  json::parse_options options;
  options.max_depth = limits.max_depth;
  // Invalid UTF-8 is found afterwards, string by string, so that the error can name the field.
  options.allow_invalid_utf8 = true;

  Parsed parsed;
  boost::system::error_code ec;
  json::value value = json::parse(json::string_view(body.data(), body.size()), ec, {}, options);
  if (ec == json::error::too_deep) {
    const std::string limit = std::to_string(limits.max_depth);
    parsed.limit_error = Error(ErrorCode::kInvalidRequest,
                               "The JSON body nests arrays and objects deeper than the limit of " + limit,
                               {{"field", "body"}, {"reason", "nesting_too_deep"}, {"max_depth", limit}});
    return parsed;
  }
  if (ec) {
    parsed.syntax_error = ec;
    return parsed;
  }
  parsed.limit_error = StringChecker(limits).check(value);
  if (!parsed.limit_error) {
    parsed.value = std::move(value);
  }
  return parsed;
}

}  // namespace

common::Result<json::value> parse_json_body(std::string_view body, const JsonLimits& limits) {
  Parsed parsed = parse(body, limits);
  if (parsed.value) {
    return std::move(*parsed.value);
  }
  if (parsed.limit_error) {
    return std::move(*parsed.limit_error);
  }
  return Error(ErrorCode::kInvalidRequest,
               "The request body is not valid JSON: " + parsed.syntax_error.message(),
               {{"field", "body"}, {"reason", "invalid_json"}});
}

bool is_json_media_type(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  const auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  type.erase(type.begin(), std::find_if(type.begin(), type.end(), not_space));
  type.erase(std::find_if(type.rbegin(), type.rend(), not_space).base(), type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
}

std::optional<Error> check_json_body(std::string_view body, const JsonLimits& limits) {
  return parse(body, limits).limit_error;
}

}  // namespace rally::gateway::http
