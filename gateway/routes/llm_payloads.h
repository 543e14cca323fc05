// What the LLM routes read and write, apart from any I/O: the seed's request bodies and their translation
// to rally.v1.CompleteRequest, the answers and Server-Sent Events of /llm_request[_streaming], and the
// translation between the OpenAI wire format (rally_openai_wire) and the llm-proxy's messages. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rally/v1/llm_proxy.pb.h"
#include "services/common/errors.h"
#include "services/llm-proxy/wire/openai_wire.h"

namespace rally::gateway::routes {

// What /llm_request and /llm_request_streaming use when the body names no model (the seed's default).
inline constexpr std::string_view kDefaultModel = "gpt-3.5-turbo";
// Who the llm-proxy accounts the gateway's completions to.
inline constexpr std::string_view kCaller = "gateway";

// ---- /llm_request and /llm_request_streaming --------------------------------------------------------------

struct SimpleLlmRequest {
  std::string message;
  std::string model;
};

// {"message": "...", "model": "..."}: kInvalidRequest "Message is required" when message is missing, not a
// string or only whitespace; a body that is not a JSON object and a model that is not a string are
// kInvalidRequest too. A missing or null model is kDefaultModel.
common::Result<SimpleLlmRequest> parse_simple_request(std::string_view body);

// One user message.
v1::CompleteRequest complete_request_for(const SimpleLlmRequest& request);

// {"message","response","model","served_by","finish_reason","usage":{...},"simulated","id"}: the seed's two
// fields first, then what the llm-proxy reported.
std::string simple_response_body(std::string_view message, const v1::CompleteResponse& response);

// An SSE comment: keeps idle connections open while a stream waits for its first token.
inline constexpr std::string_view kSseHeartbeat = ": heartbeat\n\n";
// data: {"delta":"...","model":"..."}
std::string sse_delta_event(std::string_view text, std::string_view model);
// event: done / data: {"finish_reason","usage","served_by","model","id","simulated","timing","overhead_ms"}
std::string sse_done_event(const v1::StreamCompleteResponse::End& end, double overhead_ms);
// event: error / data: {"code":"UPSTREAM_ERROR","message":"..."}
std::string sse_error_event(const common::Error& error);

// ---- OpenAI-compatible /v1 --------------------------------------------------------------------------------

// Roles system and developer become system messages; tool and function messages (tool calls) are not
// supported and are kInvalidRequest with OpenAI-style "param" and "code" details.
common::Result<v1::CompleteRequest> complete_request_for(const openai_wire::ChatRequest& chat);

// OpenAI's name of a finish reason: "stop", "length", "content_filter", "tool_calls".
std::string_view finish_reason_name(v1::FinishReason reason);
openai_wire::Usage openai_usage(const v1::Usage& usage);

// "llamarally-simulator" for models served by the LLM simulator, so users can tell; else the provider.
std::string_view model_owner(const v1::Model& model);
// The enabled models, in catalog order.
std::vector<openai_wire::ModelEntry> openai_models(const v1::ListModelsResponse& response);

struct OpenAiError {
  int status = 500;
  std::string type;  // "invalid_request_error", "server_error", ...
  std::string message;
  std::optional<std::string> param;
  std::optional<std::string> code;  // "model_not_found", "upstream_error", ...

  std::string body() const;   // {"error":{...}}
  std::string event() const;  // the same as a stream's data event
};
// A failure of the llm-proxy as OpenAI reports it: an unknown model (the proxy's INVALID_REQUEST naming the
// available models, or MODEL_NOT_FOUND) is 404 model_not_found, other invalid requests 400
// invalid_request_error with the field as param, everything else the error table's status with the
// REST code in lower case.
OpenAiError openai_error_for(const common::Error& error, std::string_view model);

// ---- X-Rally-Overhead-Ms ----------------------------------------------------------------------------------

double to_milliseconds(const google::protobuf::Duration& duration);
// The time the gateway spent minus the time the llm-proxy spent waiting on providers, never negative.
double overhead_ms(std::chrono::steady_clock::duration elapsed, const google::protobuf::Duration& upstream);
// Two decimals: "3.14".
std::string format_milliseconds(double milliseconds);

}  // namespace rally::gateway::routes
