#include "services/scoring/sync/models_dev_client.h"

#include <future>
#include <stdexcept>
#include <utility>

#include "services/llm-proxy/http/http_client.h"

namespace rally::scoring {
namespace {

using common::Error;
using common::ErrorCode;
using llm_proxy::HttpErrorKind;

Error upstream_error(const std::string& url, std::string message) {
  return Error(ErrorCode::kUpstreamError, "models.dev: " + std::move(message), {{"url", url}});
}

bool is_timeout(HttpErrorKind kind) {
  return kind == HttpErrorKind::kTimeoutConnect || kind == HttpErrorKind::kTimeoutFirstByte ||
         kind == HttpErrorKind::kTimeoutIdle || kind == HttpErrorKind::kTimeoutTotal;
}

Error error_of(const llm_proxy::HttpError& error, const std::string& url, std::chrono::milliseconds timeout,
               std::uint64_t max_body_bytes) {
  if (is_timeout(error.kind)) {
    return Error(ErrorCode::kApiTimeout,
                 "models.dev did not answer within " + std::to_string(timeout.count()) + " ms",
                 {{"url", url}});
  }
  if (error.kind == HttpErrorKind::kCancelled) {
    return Error(ErrorCode::kServiceUnavailable, "the models.dev client is shutting down", {{"url", url}});
  }
  if (error.kind == HttpErrorKind::kBodyTooLarge) {
    return upstream_error(url, "the document exceeds " + std::to_string(max_body_bytes) + " bytes");
  }
  return upstream_error(url, std::string(llm_proxy::to_string(error.kind)) + ": " + error.message);
}

// A header the response may repeat: its value, or the fallback when absent.
std::string header_or(const llm_proxy::HttpResponseHead& head, std::string_view name,
                      const std::string& fallback) {
  const auto value = head.header(name);
  return value ? std::string(*value) : fallback;
}

// One fetch every few hours, and a few more for unknown models: one thread and one idle connection do.
llm_proxy::HttpClientOptions client_options() {
  llm_proxy::HttpClientOptions options;
  options.threads = 1;
  options.max_idle_per_origin = 1;
  return options;
}

}  // namespace

ModelsDevClient::ModelsDevClient(std::string url, std::uint64_t max_body_bytes)
    : url_(std::move(url)),
      max_body_bytes_(max_body_bytes),
      http_(std::make_unique<llm_proxy::HttpClient>(client_options())) {}

ModelsDevClient::~ModelsDevClient() {
  shutdown();
}

common::Result<ModelsDevResponse> ModelsDevClient::fetch(const ModelsDevValidators& previous,
                                                         std::chrono::milliseconds timeout) {
  llm_proxy::HttpRequest request;
  request.method = "GET";
  request.url = url_;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", "LlamaRally-scoring"}};
  if (!previous.etag.empty()) request.headers.push_back({"If-None-Match", previous.etag});
  if (!previous.last_modified.empty())
    request.headers.push_back({"If-Modified-Since", previous.last_modified});
  request.timeouts.connect = timeout;
  request.timeouts.first_byte = timeout;
  request.timeouts.total = timeout;
  request.max_body_bytes = max_body_bytes_;

  auto done = std::make_shared<std::promise<llm_proxy::HttpFetchResult>>();
  std::future<llm_proxy::HttpFetchResult> result_future = done->get_future();
  std::uint64_t call_id = 0;
  {
    const std::lock_guard lock(mutex_);
    if (shut_down_) {
      return Error(ErrorCode::kServiceUnavailable, "the models.dev client is shutting down", {{"url", url_}});
    }
    try {
      const llm_proxy::HttpCall call =
          http_->fetch(std::move(request),
                       [done](llm_proxy::HttpFetchResult result) { done->set_value(std::move(result)); });
      call_id = next_call_++;
      cancel_in_progress_.emplace(call_id, [call] { call.cancel(); });
    } catch (const std::invalid_argument& e) {
      return upstream_error(url_, std::string("cannot request the URL: ") + e.what());
    }
  }
  // The call's own timeouts bound this wait.
  llm_proxy::HttpFetchResult result = result_future.get();
  {
    const std::lock_guard lock(mutex_);
    cancel_in_progress_.erase(call_id);
  }

  if (result.error) return error_of(*result.error, url_, timeout, max_body_bytes_);
  const int status = result.head.status;
  if (status == 304) {
    if (previous.empty()) return upstream_error(url_, "304 Not Modified to a request without validators");
    ModelsDevResponse response;
    response.validators.etag = header_or(result.head, "etag", previous.etag);
    response.validators.last_modified = header_or(result.head, "last-modified", previous.last_modified);
    return response;
  }
  if (status != 200) {
    return Error(ErrorCode::kUpstreamError,
                 "models.dev: answered " + std::to_string(status) + " " + result.head.reason,
                 {{"url", url_}, {"status", std::to_string(status)}});
  }

  auto catalog = parse_models_dev(result.body);
  if (!catalog) return upstream_error(url_, "not a models.dev document: " + catalog.error().message);
  // An empty document would wipe out every model the service knows; that is a broken upstream.
  if (catalog->models.empty()) return upstream_error(url_, "the document holds no models");
  ModelsDevResponse response;
  response.modified = true;
  response.body = std::move(result.body);
  response.catalog = std::move(catalog.value());
  response.validators.etag = header_or(result.head, "etag", "");
  response.validators.last_modified = header_or(result.head, "last-modified", "");
  return response;
}

void ModelsDevClient::shutdown() {
  const std::lock_guard lock(mutex_);
  shut_down_ = true;
  for (const auto& [id, cancel] : cancel_in_progress_) cancel();
}

}  // namespace rally::scoring
