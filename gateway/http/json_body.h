// JSON request bodies, parsed one way for every route: bounded nesting depth and string length, UTF-8
// checked string by string so that an error names the field holding the bad bytes.
//
// The HTTP session holds every JSON body to the configured limits before a handler runs
// (check_json_body; docs/security.md, "Hostile input"). The route parsers then parse with parse_json_body,
// whose default limits are wide enough never to contradict the configured ones, so their errors read alike.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>

#include "services/common/errors.h"

namespace rally::gateway::http {

inline constexpr std::size_t kDefaultJsonMaxDepth = 32;
inline constexpr std::size_t kDefaultJsonMaxStringBytes = std::size_t{512} * 1024;
// The deepest nesting a configuration may allow (RALLY_GATEWAY_JSON_MAX_DEPTH): the route parsers allow
// this much, so the configured limit is the one that decides.
inline constexpr std::size_t kMaxConfigurableJsonDepth = 256;

struct JsonLimits {
  std::size_t max_depth = kDefaultJsonMaxDepth;               // arrays and objects inside one another
  std::size_t max_string_bytes = kDefaultJsonMaxStringBytes;  // each string value and each object key
};

// What the route parsers apply: the server has already held the body to the configured limits.
inline constexpr JsonLimits kRouteParserJsonLimits{kMaxConfigurableJsonDepth,
                                                   std::numeric_limits<std::size_t>::max()};

// The body as a JSON value, or INVALID_REQUEST: not JSON (details: reason "invalid_json"), nested deeper
// than allowed ("nesting_too_deep", max_depth), a string or key longer than allowed ("string_too_long",
// field, max_string_bytes) or one that is not UTF-8 ("invalid_utf8", field). `field` is a path such as
// "messages[1].content"; "body" is the body itself.
common::Result<boost::json::value> parse_json_body(std::string_view body,
                                                   const JsonLimits& limits = kRouteParserJsonLimits);

// The server's check: the error for a body that breaks a limit (depth, string length, UTF-8), nullopt for
// one that keeps them, including one that is not JSON at all: whether that is an error is the route's call
// (a route answers in its own wire format; the OpenAI-compatible routes have their own error shape).
std::optional<common::Error> check_json_body(std::string_view body, const JsonLimits& limits);

// application/json, or a structured "+json" type (application/merge-patch+json), with any parameters
// ("application/json; charset=utf-8"); case-insensitive.
bool is_json_media_type(std::string_view content_type);

}  // namespace rally::gateway::http
