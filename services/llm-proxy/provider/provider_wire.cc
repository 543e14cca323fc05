#include "services/llm-proxy/provider/provider_wire.h"

#include <string>

#include "services/common/utf8.h"

namespace rally::llm_proxy {
namespace {

// How much of a body that is not the provider's error format goes into a failure message.
constexpr std::size_t kQuotedBodyBytes = 200;

// The start of `body` on one line, as valid UTF-8: enough to recognise "upstream connect error" or an
// nginx page, short enough for a log line.
std::string quote_body(std::string_view body) {
  std::string quoted;
  bool pending_space = false;
  for (const char c : body.substr(0, kQuotedBodyBytes)) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space) {
      pending_space = !quoted.empty();
      continue;
    }
    if (pending_space) quoted += ' ';
    pending_space = false;
    quoted += c;
  }
  if (body.size() > kQuotedBodyBytes) quoted += "...";
  return common::repair_utf8(quoted);
}

}  // namespace

FailureKind failure_kind_for_status(int status) {
  if (status == 429) return FailureKind::kRateLimited;
  if (status == 408) return FailureKind::kTimeout;
  if (status >= 500 && status <= 599) return FailureKind::kServerError;
  if (status >= 400 && status <= 499) return FailureKind::kClientError;
  return FailureKind::kProtocolError;
}

ProviderFailure status_failure(int status, std::string_view provider_message, std::string_view body,
                               const HttpHeaders& headers) {
  ProviderFailure failure;
  failure.kind = failure_kind_for_status(status);
  failure.http_status = status;
  if (!provider_message.empty()) {
    failure.message = common::repair_utf8(provider_message);
  } else {
    failure.message = "the provider answered HTTP " + std::to_string(status);
    const std::string quoted = quote_body(body);
    if (!quoted.empty()) failure.message += ": " + quoted;
  }
  if (const auto retry_after = find_header(headers, "retry-after")) {
    failure.retry_after = parse_retry_after(*retry_after);
  }
  return failure;
}

ProviderFailure protocol_failure(std::string message) {
  ProviderFailure failure;
  failure.kind = FailureKind::kProtocolError;
  failure.message = std::move(message);
  return failure;
}

}  // namespace rally::llm_proxy
