// Decoding of percent-encoded URI components (RFC 3986 section 2.1) for path parameters and query strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rally::gateway::http {

// Decodes %XX escapes; with `plus_is_space` (query strings, HTML form encoding) '+' becomes ' '.
// nullopt when an escape is truncated or not hexadecimal: such input is rejected, never guessed at.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace rally::gateway::http
