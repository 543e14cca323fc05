// The HTTP/1.1 client the llm-proxy uses to reach LLM providers (OpenAI, Anthropic, OpenAI-compatible
// servers, the LLM simulator). Responses stream: each piece of the body reaches the caller as it arrives,
// so Server-Sent Events flow through token by token. Beast, Asio and OpenSSL stay in the .cc files.
//
//   HttpClient client;  // owns its I/O threads, connection pool and TLS context
//   HttpCall call = client.start(std::move(request), HttpResponseHandler{
//       .on_head = [](const HttpResponseHead& head) { ... },
//       .on_body = [](std::string_view chunk) { ... },           // chunk is valid during the call only
//       .on_complete = [](std::optional<HttpError> error) { ... }});
//   ...
//   call.cancel();  // e.g. the browser went away: the upstream TCP connection is closed at once
//
// Callbacks and threads. A call's callbacks run on the client's I/O threads, one at a time and in order:
// on_head at most once, then on_body zero or more times, then on_complete exactly once, always last (also
// after cancel() and when the client is destroyed). They must not block (they hold up other calls on the
// same thread) and must not throw (a throwing callback terminates the process). They may call start() or
// cancel() freely.
//
// Cancellation. HttpCall::cancel() may be called from any thread, any number of times, before or after the
// call finished, and once the client is gone (then it does nothing), but not while the client's destructor
// runs. It never blocks. It closes the upstream connection at once, so the provider sees the TCP
// connection closed and stops generating. Once cancel() has returned, no new on_head or on_body starts,
// with one unavoidable exception: when cancel() is called from a thread other than the I/O threads, a
// callback an I/O thread was entering at that very moment may still run. From inside one of the call's own
// callbacks the guarantee is exact. Then on_complete(kCancelled) follows, unless the call was already
// finishing; then on_complete reports how it ended and cancel() changes nothing.
//
// Connections. Idle keep-alive connections are pooled per origin (scheme, host, port) and reused when the
// previous response was read to its end and both sides allowed keep-alive; a connection whose response was
// cancelled, failed or was left unread is closed, never reused. A request sent on a pooled connection that
// fails before any byte of the response arrived, because the peer closed or reset the connection, is
// retried once on a fresh connection, whatever its method. That is the race every keep-alive client has
// with server idle timeouts: the server closed the connection as idle while the request was on its way,
// and never acted on it. (RFC 9112 9.3.1 reserves automatic retries for idempotent methods, since a server
// might also have crashed after acting; for an LLM call the worst case is one duplicate completion, where
// the alternative is failing a request for no fault of its own.) Timeouts, failures after a response byte
// and requests on fresh connections are never retried here: only the caller knows what is safe to repeat.
//
// Responses. Content-Length, chunked and read-until-close bodies are all delivered incrementally and as
// received (no content decoding: do not ask for gzip). Interim 1xx responses are skipped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rally::llm_proxy {

struct HttpHeader {
  std::string name;
  std::string value;

  bool operator==(const HttpHeader&) const = default;
};
using HttpHeaders = std::vector<HttpHeader>;

// The first value of header `name` (compared case-insensitively), nullopt when absent.
std::optional<std::string_view> find_header(const HttpHeaders& headers, std::string_view name);

// Zero disables the timeout where that is allowed.
struct HttpTimeouts {
  // Name resolution, TCP connect and TLS handshake together. Must be positive.
  std::chrono::milliseconds connect{10'000};
  // From the request fully sent until the response head arrived. A request write that stalls (the server
  // does not read) fails with this timeout too, so a call can never hang before its response. Must be
  // positive.
  std::chrono::milliseconds first_byte{60'000};
  // The longest wait for the next piece of body; 0 = none.
  std::chrono::milliseconds idle{0};
  // The whole call from start(), including retries; 0 = none.
  std::chrono::milliseconds total{0};
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // "https://api.openai.com/v1/chat/completions", "http://127.0.0.1:50080/v1/..."
  // Sent in order. Host, Content-Length and Transfer-Encoding are the client's to set (a Host given here
  // replaces the default; the other two are dropped). User-Agent defaults to "LlamaRally-llm-proxy".
  // "Connection: close" is honoured: the connection is not reused.
  HttpHeaders headers;
  std::string body;  // sent with a Content-Length
  HttpTimeouts timeouts;
  // The most response body bytes accepted before the call fails with kBodyTooLarge; 0 = no limit (for
  // fetch(): HttpClientOptions::max_fetch_body_bytes).
  std::uint64_t max_body_bytes = 0;
};

enum class HttpErrorKind {
  kResolve,           // the host name did not resolve
  kConnect,           // no address accepted a TCP connection
  kTls,               // TLS handshake or certificate verification failed (or TLS broke later)
  kTimeoutConnect,    // resolve + connect + handshake took longer than timeouts.connect
  kTimeoutFirstByte,  // no response head within timeouts.first_byte of sending the request
  kTimeoutIdle,       // the body paused longer than timeouts.idle
  kTimeoutTotal,      // the call took longer than timeouts.total
  kProtocol,          // the response is not valid HTTP/1.x (or its head exceeds the header limit)
  kClosedEarly,       // the connection closed (or reset) before the response ended
  kCancelled,         // HttpCall::cancel(), or the client was destroyed
  kBodyTooLarge,      // the body exceeds the request's max_body_bytes
};

// "resolve", "connect", "tls", "timeout_connect", ...: stable names for logs and metric labels.
std::string_view to_string(HttpErrorKind kind);

struct HttpError {
  HttpErrorKind kind = HttpErrorKind::kProtocol;
  std::string message;  // for logs: what failed, with the system's or OpenSSL's reason
  // Whether on_head / on_body had been called before the failure. A caller must never retry a call whose
  // output it already passed on.
  bool head_delivered = false;
  bool body_delivered = false;
};

struct HttpResponseHead {
  int status = 0;
  std::string reason;
  HttpHeaders headers;  // as received, in order

  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
};

class HttpCall;

// The callbacks of one streaming call; on_start, on_head and on_body may be left empty, on_complete must be
// set.
struct HttpResponseHandler {
  // Runs inside start(), on the calling thread, before anything is sent: hands over the call's handle so
  // that the other callbacks can cancel it exactly (they may run before start() returns).
  std::function<void(const HttpCall& call)> on_start;
  std::function<void(const HttpResponseHead& head)> on_head;
  std::function<void(std::string_view chunk)> on_body;
  // nullopt when the response was received to its end.
  std::function<void(std::optional<HttpError> error)> on_complete;
};

// What fetch() collects: the whole response, or the error that ended the call (with whatever part of the
// response had arrived by then).
struct HttpFetchResult {
  std::optional<HttpError> error;
  HttpResponseHead head;
  std::string body;

  bool ok() const { return !error.has_value(); }
};

namespace detail {
class Exchange;
}

// A handle on one call. Copyable; destroying it does not cancel the call.
class HttpCall {
 public:
  HttpCall() = default;

  // See "Cancellation" above.
  void cancel() const;

 private:
  friend class HttpClient;
  explicit HttpCall(std::weak_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {}

  std::weak_ptr<detail::Exchange> exchange_;
};

struct HttpClientOptions {
  // I/O threads; at least 1.
  std::size_t threads = 2;
  // Idle keep-alive connections kept per origin (the oldest are closed beyond it); 0 disables pooling.
  std::size_t max_idle_per_origin = 32;
  // Idle connections older than this are closed (servers drop idle connections after 60 s and more).
  std::chrono::milliseconds idle_timeout{30'000};
  // The most bytes a response head (status line and headers) may have.
  std::uint32_t max_header_bytes = 64 * 1024;
  // fetch()'s body limit when the request sets none.
  std::uint64_t max_fetch_body_bytes = 8 * 1024 * 1024;
  // A PEM file of CA certificates trusted in addition to the system's (OpenSSL's default verify paths,
  // which follow SSL_CERT_FILE and SSL_CERT_DIR when set). For private deployments and tests.
  std::string extra_ca_file;
};

// What the connection pool holds and has done; for tests and diagnostics.
struct HttpPoolStats {
  // Origins with idle connections, by origin ("http://127.0.0.1:8080") with the number idle.
  std::map<std::string, std::size_t> idle_by_origin;
  std::uint64_t connections_opened = 0;  // TCP connections established over the client's lifetime
  std::uint64_t connections_reused = 0;  // requests sent on a pooled connection
  std::uint64_t stale_retries = 0;       // requests retried because a pooled connection had been closed

  std::size_t idle(const std::string& origin) const;
  std::size_t idle_total() const;
};

class HttpClient {
 public:
  // Starts the I/O threads. Throws std::invalid_argument for bad options and std::runtime_error when the
  // trust store or extra_ca_file cannot be loaded.
  explicit HttpClient(HttpClientOptions options = {});
  // Cancels every call in flight (each gets on_complete(kCancelled)), closes idle connections and joins
  // the I/O threads. Must not run on one of those threads (from a callback).
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts a streaming call; safe from any thread. Throws std::invalid_argument, before anything is sent,
  // for a request that could never be valid: a malformed or non-http(s) URL, a method that is not an HTTP
  // token, a header name that is not a token or a header value with CR, LF or NUL, a timeout below zero or
  // a zero connect / first_byte timeout. Everything else is reported through on_complete.
  HttpCall start(HttpRequest request, HttpResponseHandler handler);

  // Collects a small response whole (bounded by max_body_bytes, or options.max_fetch_body_bytes when the
  // request sets none). on_done runs once, on an I/O thread. Throws as start() does.
  HttpCall fetch(HttpRequest request, std::function<void(HttpFetchResult)> on_done);
  std::future<HttpFetchResult> fetch(HttpRequest request);

  // Any thread.
  HttpPoolStats pool_stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rally::llm_proxy
