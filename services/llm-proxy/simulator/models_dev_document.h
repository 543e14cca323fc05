// GET /api.json: the simulator's stand-in for https://models.dev/api.json, served from a file with the
// validators and conditional requests of RFC 9110 (a strong ETag, Last-Modified, 304 Not Modified), so the
// scoring service's models.dev sync meets real HTTP caching semantics without the internet. Everything here
// but load_models_dev_document is pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "services/common/errors.h"

namespace rally::llm_simulator {

inline constexpr std::string_view kModelsDevPath = "/api.json";

// The document as served: its bytes and their validators.
struct ModelsDevDocument {
  std::string bytes;
  std::string etag;  // strong_etag(bytes)
  std::chrono::sys_seconds last_modified{};
};

// Reads the file whole (on every request, so a test may rewrite it). Last-Modified is its modification
// time in whole seconds, but never later than `now` (RFC 9110 8.8.2.1). kInternal when it cannot be read.
common::Result<ModelsDevDocument> load_models_dev_document(const std::string& path,
                                                           std::chrono::system_clock::time_point now);

// A strong entity tag of the bytes: the first 32 hex digits of their SHA-256, quoted.
std::string strong_etag(std::string_view bytes);

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::sys_seconds time);

// Any of the three HTTP-date formats (RFC 9110 5.6.7): IMF-fixdate, the obsolete RFC 850 form
// ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime's ("Sun Nov  6 08:49:37 1994"). An RFC 850 year more than
// 50 years after `now` is read as the century before. nullopt for anything else, impossible dates included.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text,
                                                        std::chrono::system_clock::time_point now);

// Whether an If-None-Match value (a list of entity tags, or "*") matches `etag`, comparing weakly as
// RFC 9110 13.1.2 requires (W/"x" matches "x"). Malformed members match nothing.
bool if_none_match_matches(std::string_view field_value, std::string_view etag);

// RFC 9110 13.2.2 for a GET of the document: true when the answer is 304 Not Modified. If-None-Match, when
// present, decides alone; otherwise If-Modified-Since does (not modified when the document's Last-Modified
// is not later than it), and is ignored when it is not a valid HTTP-date.
bool is_not_modified(const ModelsDevDocument& document, const std::optional<std::string>& if_none_match,
                     const std::optional<std::string>& if_modified_since,
                     std::chrono::system_clock::time_point now);

}  // namespace rally::llm_simulator
