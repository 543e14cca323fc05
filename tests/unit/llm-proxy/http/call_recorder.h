// Records what one streaming call delivered, in order, for the HTTP client's tests. The callbacks run on
// the client's I/O threads; the test thread waits for on_complete and then inspects the record.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services/llm-proxy/http/http_client.h"

namespace rally::llm_proxy::testing {

class CallRecorder : public std::enable_shared_from_this<CallRecorder> {
 public:
  // Runs on the I/O thread after a chunk was recorded (for tests that react to the first chunk).
  std::function<void(std::string_view chunk)> after_body;

  HttpResponseHandler handler() {
    auto self = shared_from_this();
    return HttpResponseHandler{
        .on_head =
            [self](const HttpResponseHead& head) {
              const std::lock_guard lock(self->mutex_);
              self->events_.push_back("head");
              self->head_ = head;
            },
        .on_body =
            [self](std::string_view chunk) {
              {
                const std::lock_guard lock(self->mutex_);
                self->events_.push_back("body");
                self->chunks_.emplace_back(chunk);
              }
              ++self->body_calls_;
              if (self->after_body) {
                self->after_body(chunk);
              }
            },
        .on_complete =
            [self](std::optional<HttpError> error) {
              {
                const std::lock_guard lock(self->mutex_);
                self->events_.push_back("complete");
                self->error_ = std::move(error);
                ++self->completions_;
              }
              self->done_.notify_all();
            },
    };
  }

  // True once on_complete ran (within `timeout`).
  bool wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, timeout, [&] { return completions_ > 0; });
  }

  int completions() const {
    const std::lock_guard lock(mutex_);
    return completions_;
  }
  // How many times on_body has run so far; safe to read while the call is in flight.
  int body_calls() const { return body_calls_.load(); }
  std::optional<HttpError> error() const {
    const std::lock_guard lock(mutex_);
    return error_;
  }
  std::optional<HttpErrorKind> error_kind() const {
    const std::lock_guard lock(mutex_);
    return error_ ? std::optional(error_->kind) : std::nullopt;
  }
  std::optional<HttpResponseHead> head() const {
    const std::lock_guard lock(mutex_);
    return head_;
  }
  std::vector<std::string> chunks() const {
    const std::lock_guard lock(mutex_);
    return chunks_;
  }
  std::string body() const {
    const std::lock_guard lock(mutex_);
    std::string all;
    for (const std::string& chunk : chunks_) {
      all += chunk;
    }
    return all;
  }
  // "head", "body", ..., "complete": the order the callbacks ran in.
  std::vector<std::string> events() const {
    const std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::string> events_;
  std::optional<HttpResponseHead> head_;
  std::vector<std::string> chunks_;
  std::atomic<int> body_calls_{0};
  std::optional<HttpError> error_;
  int completions_ = 0;
};

inline std::shared_ptr<CallRecorder> make_recorder() {
  return std::make_shared<CallRecorder>();
}

// Most tests need only one I/O thread: callbacks then run in a predictable order across calls.
inline HttpClientOptions one_thread() {
  HttpClientOptions options;
  options.threads = 1;
  return options;
}

inline HttpRequest get(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

}  // namespace rally::llm_proxy::testing
