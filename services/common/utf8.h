// UTF-8 validation (RFC 3629) for untrusted text: HTTP bodies, upstream replies, chain data. proto3 string
// fields and JSON output both require valid UTF-8, so text is checked or repaired at the boundary.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rally::common {

// Length of the well-formed sequence that starts at text[i], or 0 when there is none: stray continuation
// bytes, overlong forms, surrogates, code points above U+10FFFF and truncated sequences all give 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// Offset of the first byte that does not start a well-formed sequence, or npos when the text is valid.
std::size_t first_invalid_utf8(std::string_view text);
inline bool is_valid_utf8(std::string_view text) {
  return first_invalid_utf8(text) == std::string_view::npos;
}

// The text with every byte that does not start a well-formed sequence replaced by U+FFFD.
std::string repair_utf8(std::string_view text);

}  // namespace rally::common
