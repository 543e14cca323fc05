// The ProviderClient over HTTP: OpenAI, OpenAI-compatible servers and Anthropic, through the llm-proxy's
// HttpClient (which keeps Beast, Asio and OpenSSL out of this header). One attempt per start(): the
// request goes out in the endpoint's wire format, streamed replies are passed on delta by delta as they
// arrive, whole replies as one delta, and every way the exchange can fail becomes one ProviderFailure.
#pragma once

#include <cstddef>

#include "services/llm-proxy/provider/provider_client.h"

namespace rally::llm_proxy {

class HttpProviderClient final : public ProviderClient {
 public:
  // The most bytes of an error response read for its message (the rest is not read: the connection is
  // closed), and of a whole (non-streamed) answer (more fails the attempt with kProtocolError).
  static constexpr std::size_t kMaxErrorBodyBytes = 64 * 1024;
  static constexpr std::size_t kMaxAnswerBodyBytes = 8 * 1024 * 1024;

  // `http` is not owned and must outlive every attempt (its destructor ends them with kCancelled).
  explicit HttpProviderClient(HttpClient& http) : http_(http) {}

  ProviderCall start(const ProviderEndpoint& endpoint, const ChatCompletion& completion,
                     ProviderHandler handler) override;

 private:
  HttpClient& http_;
};

}  // namespace rally::llm_proxy
