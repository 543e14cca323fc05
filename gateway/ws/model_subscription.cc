#include "gateway/ws/model_subscription.h"

#include <boost/json.hpp>
#include <limits>
#include <utility>

#include "gateway/http/json_body.h"

namespace rally::gateway::ws {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

// Bytes of a client's key quoted back in an error: the answer to a hostile message stays small.
constexpr std::size_t kMaxQuotedBytes = 64;

Error invalid(std::string_view field, std::string_view problem) {
  return Error(ErrorCode::kInvalidRequest,
               "Invalid request: " + std::string(field) + " " + std::string(problem),
               {{"field", std::string(field)}});
}

// At most kMaxQuotedBytes of `text` (valid UTF-8, as parse_json_body checked), never cutting a character.
std::string quoted(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return std::string(text);
  std::size_t end = kMaxQuotedBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

bool has_control_character(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return true;
  }
  return false;
}

bool is_invalid_json(const Error& error) {
  for (const auto& [key, value] : error.details) {
    if (key == "reason" && value == "invalid_json") return true;
  }
  return false;
}

}  // namespace

Result<SubscriptionRequest> parse_subscription_request(std::string_view text) {
  // Strings are bounded below, field by field; the connection's message size bounds the rest.
  Result<json::value> parsed = http::parse_json_body(
      text, http::JsonLimits{http::kDefaultJsonMaxDepth, std::numeric_limits<std::size_t>::max()});
  if (!parsed.ok()) {
    if (is_invalid_json(parsed.error())) {
      return invalid("message", R"(is not JSON: send "ping" or {"action":"subscribe","model_ids":[...]})");
    }
    return parsed.error();  // too deep, or a string that is not UTF-8 (named by its path)
  }
  if (!parsed.value().is_object()) return invalid("message", "must be a JSON object");
  const json::object& object = parsed.value().get_object();
  for (const auto& member : object) {
    if (member.key() != "action" && member.key() != "model_ids") {
      return invalid(quoted(member.key()), "is not a known field (allowed: action, model_ids)");
    }
  }

  SubscriptionRequest request;
  const json::value* action = object.if_contains("action");
  if (action == nullptr) return invalid("action", "is required: subscribe or unsubscribe");
  if (!action->is_string()) return invalid("action", "must be a string: subscribe or unsubscribe");
  if (action->get_string() == "subscribe") {
    request.action = SubscriptionRequest::Action::kSubscribe;
  } else if (action->get_string() == "unsubscribe") {
    request.action = SubscriptionRequest::Action::kUnsubscribe;
  } else {
    return invalid("action", "must be subscribe or unsubscribe, not \"" +
                                 quoted(std::string_view(action->get_string())) + "\"");
  }

  const json::value* ids = object.if_contains("model_ids");
  if (ids == nullptr) return invalid("model_ids", "is required");
  if (!ids->is_array()) return invalid("model_ids", "must be an array of model ids");
  const json::array& array = ids->get_array();
  if (array.empty()) return invalid("model_ids", "must not be empty");
  if (array.size() > kMaxWatchedModels) {
    return invalid("model_ids", "holds more than " + std::to_string(kMaxWatchedModels) + " ids");
  }
  request.model_ids.reserve(array.size());
  for (std::size_t index = 0; index < array.size(); ++index) {
    const std::string field = "model_ids[" + std::to_string(index) + "]";
    const json::value& id = array[index];
    if (!id.is_string() || id.get_string().empty()) return invalid(field, "must be a non-empty string");
    const std::string_view value(id.get_string());
    if (value.size() > kMaxModelIdBytes) {
      return invalid(field, "is longer than " + std::to_string(kMaxModelIdBytes) + " bytes");
    }
    if (has_control_character(value)) return invalid(field, "holds a control character");
    request.model_ids.emplace_back(value);
  }
  return request;
}

std::optional<Error> ModelSubscription::apply(const SubscriptionRequest& request) {
  if (request.action == SubscriptionRequest::Action::kUnsubscribe) {
    for (const std::string& id : request.model_ids) ids_.erase(id);
    return std::nullopt;
  }
  Ids added;
  for (const std::string& id : request.model_ids) {
    if (!ids_.contains(id)) added.insert(id);
  }
  if (ids_.size() + added.size() > kMaxWatchedModels) {
    return invalid("model_ids", "would make this connection watch more than " +
                                    std::to_string(kMaxWatchedModels) + " models (it watches " +
                                    std::to_string(ids_.size()) + ")");
  }
  ids_.merge(added);
  return std::nullopt;
}

std::optional<std::string_view> ModelSubscription::match(std::string_view key,
                                                         std::span<const std::string> aliases) const {
  if (ids_.empty()) return std::nullopt;
  if (ids_.contains(key)) return key;
  for (const std::string& alias : aliases) {
    if (ids_.contains(alias)) return std::string_view(alias);
  }
  if (ids_.contains(kAllModels)) return key;
  return std::nullopt;
}

std::string subscribed_message(const ModelSubscription& subscription) {
  json::array ids;
  ids.reserve(subscription.model_ids().size());
  for (const std::string& id : subscription.model_ids()) ids.emplace_back(id);
  return json::serialize(
      json::object{{"type", "subscribed"}, {"data", json::object{{"model_ids", std::move(ids)}}}});
}

std::string subscription_error_message(const Error& error) {
  return json::serialize(json::object{
      {"type", "error"},
      {"error", json::object{{"code", common::info(error.code).rest_code}, {"message", error.message}}},
  });
}

}  // namespace rally::gateway::ws
