// One interface in front of every LLM provider. A ProviderClient sends a ChatCompletion to one provider
// endpoint and reports the answer as a stream of text deltas ending in exactly one finish or failure, whether
// the provider streamed (Server-Sent Events) or answered whole. Retries, fallbacks and accounting are the
// engine's (completion_engine.h): a provider client makes exactly one attempt.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "services/llm-proxy/domain/catalog.h"
#include "services/llm-proxy/domain/chat.h"
#include "services/llm-proxy/domain/retry_policy.h"
#include "services/llm-proxy/http/http_client.h"

namespace rally::llm_proxy {

// Where one attempt goes.
struct ProviderEndpoint {
  ProviderKind kind = ProviderKind::kOpenAi;
  std::string base_url;  // scheme://host[:port], no path
  std::string api_key;   // empty: no credentials header
  HttpTimeouts timeouts;
};

struct ProviderFinish {
  FinishReason reason = FinishReason::kStop;
  std::optional<TokenUsage> usage;  // nullopt when the provider reported none
  std::string upstream_id;          // the provider's response id ("chatcmpl-...", "msg_...")
};

struct ProviderFailure {
  FailureKind kind = FailureKind::kProtocolError;
  int http_status = 0;  // the provider's HTTP status, 0 when the failure was not an HTTP error status
  // For logs and clients: the provider's own error message when it sent one, else what went wrong.
  std::string message;
  std::optional<std::chrono::milliseconds> retry_after;  // the provider's Retry-After
  // True once on_delta was called: the attempt must not be retried, output already went out.
  bool output_sent = false;
};

// Callbacks of one attempt. They run on the HTTP client's I/O threads, one at a time and in order: on_delta
// zero or more times (never with empty text), then exactly one of on_finish / on_failure, always last.
// They must not block.
struct ProviderHandler {
  std::function<void(std::string_view text)> on_delta;
  std::function<void(ProviderFinish finish)> on_finish;
  std::function<void(ProviderFailure failure)> on_failure;
};

// A handle on one attempt. cancel() closes the upstream connection at once and ends the attempt with
// on_failure(kCancelled) unless it already ended; any thread, any number of times.
class ProviderCall {
 public:
  ProviderCall() = default;
  explicit ProviderCall(HttpCall call) : call_(std::move(call)) {}
  void cancel() const { call_.cancel(); }

 private:
  HttpCall call_;
};

class ProviderClient {
 public:
  virtual ~ProviderClient() = default;
  // Starts one attempt. Never throws for anything the provider does; a request that cannot be sent at all
  // (malformed base URL) is reported through on_failure(kClientError) before start() returns.
  virtual ProviderCall start(const ProviderEndpoint& endpoint, const ChatCompletion& completion,
                             ProviderHandler handler) = 0;
};

}  // namespace rally::llm_proxy
