// Anthropic Messages on the wire: request validation as the API does it, and the exact bytes of
// responses, stream events and error bodies. Pure.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "services/common/errors.h"
#include "services/llm-proxy/simulator/reply_generator.h"

namespace rally::llm_simulator::anthropic {

struct MessagesRequest {
  CompletionRequest completion;  // `system` becomes a leading message with role "system"
  bool stream = false;
};

// Validates a parsed request body; error messages follow the API's "field: problem" style.
common::Result<MessagesRequest> parse_messages_request(const boost::json::value& body);

struct ResponseIdentity {
  std::string id;  // "msg_01..."
  std::string model;
};

std::string_view stop_reason_name(FinishReason finish);

std::string message_body(const ResponseIdentity& identity, const Reply& reply);

// Stream events, each a complete "event: NAME\ndata: {...}\n\n", in the order the API sends them.
std::string message_start_event(const ResponseIdentity& identity, std::uint32_t input_tokens);
std::string content_block_start_event();
std::string ping_event();
std::string text_delta_event(std::string_view text);
std::string content_block_stop_event();
// usage.output_tokens is the total for the whole message.
std::string message_delta_event(const Reply& reply);
std::string message_stop_event();
std::string error_event(std::string_view type, std::string_view message);
// A content_block_delta whose data line is cut off in the middle of its JSON.
std::string malformed_event();

// {"type":"error","error":{"type","message"}}.
std::string error_body(std::string_view type, std::string_view message);
// The error type the API uses for an HTTP status: rate_limit_error (429), overloaded_error (529),
// api_error (other 5xx), authentication_error (401), ...
std::string_view error_type_for_status(int status);
std::string error_body_for_status(int status);

}  // namespace rally::llm_simulator::anthropic
