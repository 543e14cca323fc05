#include "gateway/routes/token_payloads.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <utility>

#include "gateway/http/envelope.h"
#include "gateway/http/json_body.h"

namespace rally::gateway::routes {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;

Error invalid(std::string_view field, std::string message) {
  return Error(ErrorCode::kInvalidRequest, std::move(message), {{"field", std::string(field)}});
}

common::Result<edge::Scope> parse_scopes(const json::value& value) {
  if (value.is_string()) return edge::parse_scope_list(value.get_string());
  if (!value.is_array() || value.get_array().empty()) {
    return invalid("scopes", "scopes must be a string such as \"read,write\" or a non-empty array of scopes");
  }
  std::string names;
  for (const json::value& name : value.get_array()) {
    if (!name.is_string()) return invalid("scopes", "scopes must hold scope names");
    names += (names.empty() ? "" : ",") + std::string(name.get_string());
  }
  return edge::parse_scope_list(names);
}

common::Result<edge::RateLimits> parse_rate_limits(const json::value& value) {
  if (!value.is_object()) return invalid("rate_limits", "rate_limits must be an object of class: requests");
  edge::RateLimits limits;
  for (const auto& [route_class, limit] : value.get_object()) {
    const auto count = limit.if_int64();
    if (!count) {
      return Error(ErrorCode::kInvalidRequest, "A rate limit must be a whole number of requests per window",
                   {{"field", "rate_limits"}, {"class", std::string(route_class)}});
    }
    if (*count < 0) {
      return Error(ErrorCode::kInvalidRequest, "A rate limit must not be negative",
                   {{"field", "rate_limits"}, {"class", std::string(route_class)}});
    }
    // Counts above the maximum stay above it, for check_rate_limits to refuse.
    const auto clamped = std::min<std::int64_t>(*count, std::numeric_limits<std::uint32_t>::max());
    limits.emplace(std::string(route_class), static_cast<std::uint32_t>(clamped));
  }
  if (auto error = edge::check_rate_limits(limits)) return *error;
  return limits;
}

json::value time_or_null(const std::optional<std::chrono::system_clock::time_point>& time) {
  if (!time) return nullptr;
  return json::value(http::format_timestamp(*time));
}

json::object token_object(const edge::TokenRecord& token) {
  json::array scopes;
  for (const std::string_view name : edge::granted_scope_names(token.scope)) scopes.emplace_back(name);
  json::object limits;
  for (const auto& [route_class, limit] : token.rate_limits) limits[route_class] = limit;
  return json::object{
      {"id", token.id},
      {"name", token.name},
      {"scope", edge::scope_name(token.scope)},
      {"scopes", std::move(scopes)},
      {"rate_limits", std::move(limits)},
      {"created_at", http::format_timestamp(token.created_at)},
      {"last_used_at", time_or_null(token.last_used_at)},
      {"revoked_at", time_or_null(token.revoked_at)},
      {"active", !token.revoked()},
  };
}

}  // namespace

common::Result<NewTokenRequest> parse_new_token_body(std::string_view body) {
  common::Result<json::value> result = http::parse_json_body(body);
  if (!result.ok()) return result.error();
  const json::value& parsed = result.value();
  if (!parsed.is_object()) return invalid("body", "The body must be a JSON object");
  const json::object& object = parsed.get_object();
  for (const auto& [key, value] : object) {
    if (key != "name" && key != "scopes" && key != "scope" && key != "rate_limits") {
      return invalid(key, "Unknown field; the fields are name, scopes (or scope) and rate_limits");
    }
  }

  NewTokenRequest request;
  const json::value* name = object.if_contains("name");
  if (name == nullptr || !name->is_string()) return invalid("name", "name is required and must be a string");
  request.name = std::string(name->get_string());
  if (auto error = edge::check_token_name(request.name)) return *error;

  const json::value* scopes = object.if_contains("scopes");
  const json::value* scope = object.if_contains("scope");
  if (scopes != nullptr && scope != nullptr) return invalid("scope", "Give scopes or scope, not both");
  if (scopes == nullptr && scope == nullptr) return invalid("scopes", "scopes is required");
  if (scope != nullptr && !scope->is_string()) return invalid("scope", "scope must be a string");
  common::Result<edge::Scope> granted = parse_scopes(scopes != nullptr ? *scopes : *scope);
  if (!granted.ok()) return granted.error();
  request.scope = granted.value();

  if (const json::value* limits = object.if_contains("rate_limits");
      limits != nullptr && !limits->is_null()) {
    common::Result<edge::RateLimits> parsed_limits = parse_rate_limits(*limits);
    if (!parsed_limits.ok()) return parsed_limits.error();
    request.rate_limits = std::move(parsed_limits.value());
  }
  return request;
}

std::string token_json(const edge::TokenRecord& token) {
  return json::serialize(token_object(token));
}

std::string token_list_json(const std::vector<edge::TokenRecord>& tokens) {
  json::array list;
  list.reserve(tokens.size());
  for (const edge::TokenRecord& token : tokens) list.push_back(token_object(token));
  return json::serialize(list);
}

std::string created_token_json(const edge::CreatedToken& created) {
  json::object object = token_object(created.token);
  object["token"] = created.raw_token;
  return json::serialize(object);
}

}  // namespace rally::gateway::routes
