// Scripted HTTP/1.1 servers for the HTTP client's tests. Each accepted connection runs the test's script on
// its own thread over a blocking socket (TLS through OpenSSL's C API when the server has a context), so a
// test decides the exact bytes, their split into writes and their timing, and observes what the client
// does to the connection (closes it, sends another request on it).
//
// Scripts must not use Catch2 assertions (they are not thread-safe); they record what they saw into state
// the test thread asserts on. Every wait is bounded and gives up when the server is being destroyed, so a
// failing test never hangs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rally::llm_proxy::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Polls `condition` every few milliseconds until it holds or `timeout` passes; returns its last value.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline) {
      return condition();
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::string head;  // request line and headers, up to and including the blank line
  std::string body;

  // The first value of header `name` (case-insensitive), empty when absent.
  std::string header(std::string_view name) const {
    std::size_t line_start = head.find("\r\n") + 2;
    while (line_start < head.size()) {
      const std::size_t line_end = head.find("\r\n", line_start);
      const std::string_view line(head.data() + line_start, line_end - line_start);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos && colon == name.size() &&
          std::equal(name.begin(), name.end(), line.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') {
          value.remove_prefix(1);
        }
        return std::string(value);
      }
      line_start = line_end + 2;
    }
    return {};
  }
};

class ServerConnection {
 public:
  ServerConnection(int fd, SSL* ssl, int index, const std::atomic<bool>& stopping)
      : fd_(fd), ssl_(ssl), index_(index), stopping_(stopping) {}
  ~ServerConnection() { close(); }
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // 0 for the first connection the server accepted, 1 for the second, ...
  int index() const { return index_; }
  bool tls() const { return ssl_ != nullptr; }

  // The server name the client sent with SNI; empty for plain connections and when it sent none.
  std::string server_name() const {
    const char* name = ssl_ != nullptr ? SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name) : nullptr;
    return name != nullptr ? name : "";
  }

  // Completes the TLS handshake (the server does it before running the script); false when it failed.
  bool handshake() {
    if (ssl_ == nullptr) {
      return true;
    }
    return SSL_accept(ssl_) == 1;
  }

  // One request with its Content-Length body; nullopt when the client closed first or `timeout` passed.
  std::optional<ReceivedRequest> read_request(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    std::size_t head_end = std::string::npos;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!receive_more(deadline)) {
        return std::nullopt;
      }
    }
    ReceivedRequest request;
    request.head = pending_.substr(0, head_end + 4);
    const std::size_t method_end = request.head.find(' ');
    const std::size_t target_end = request.head.find(' ', method_end + 1);
    request.method = request.head.substr(0, method_end);
    request.target = request.head.substr(method_end + 1, target_end - method_end - 1);
    const std::string length = request.header("Content-Length");
    const std::size_t body_size = length.empty() ? 0 : std::stoul(length);
    while (pending_.size() < head_end + 4 + body_size) {
      if (!receive_more(deadline)) {
        return std::nullopt;
      }
    }
    request.body = pending_.substr(head_end + 4, body_size);
    pending_.erase(0, head_end + 4 + body_size);
    return request;
  }

  // Sends all of `bytes` as one write; false when the client is gone.
  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      const long sent = ssl_ != nullptr ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                                        : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // True once the client closed or reset the connection (anything it sends is discarded), false when
  // `timeout` passed first.
  bool wait_for_close(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (receive_more(deadline)) {
      pending_.clear();
    }
    return peer_closed_;
  }

  // Sleeps, waking early only when the server is being destroyed.
  void pause(std::chrono::milliseconds duration) {
    const auto deadline = Clock::now() + duration;
    while (Clock::now() < deadline && !stopping_) {
      std::this_thread::sleep_for(std::min<Clock::duration>(5ms, deadline - Clock::now()));
    }
  }

  // Waits until `condition` holds; false when `timeout` passed or the server is being destroyed first.
  template <typename Condition>
  bool wait_until(Condition condition, std::chrono::milliseconds timeout = 5s) {
    return eventually([&] { return stopping_ || condition(); }, timeout) && !stopping_;
  }

  // Closes the TCP connection (FIN) without a TLS close_notify, like a crashing or impatient server.
  void close() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  // Appends what arrives to pending_; false on EOF, error, timeout or server shutdown.
  bool receive_more(Clock::time_point deadline) {
    if (fd_ < 0) {
      return false;
    }
    while (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      if (stopping_ || Clock::now() >= deadline) {
        return false;
      }
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 5) > 0) {
        break;
      }
    }
    char chunk[4096];
    const long received =
        ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk) : ::recv(fd_, chunk, sizeof chunk, 0);
    if (received <= 0) {
      peer_closed_ = true;
      return false;
    }
    pending_.append(chunk, static_cast<std::size_t>(received));
    return true;
  }

  int fd_;
  SSL* ssl_;
  int index_;
  const std::atomic<bool>& stopping_;
  std::string pending_;
  bool peer_closed_ = false;
};

class TestServer {
 public:
  using Script = std::function<void(ServerConnection&)>;

  enum class Loopback { kIpv4, kIpv6 };

  // Listens on 127.0.0.1 (or ::1) on a free port; serves TLS with `tls` when given (the server shares it).
  explicit TestServer(Script script, std::shared_ptr<SSL_CTX> tls = nullptr,
                      Loopback loopback = Loopback::kIpv4)
      : script_(std::move(script)), tls_(std::move(tls)), ipv6_(loopback == Loopback::kIpv6) {
    listen_fd_ = ::socket(ipv6_ ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (listen_fd_ < 0) {
      throw std::runtime_error("test server: socket() failed");
    }
    const int on = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_storage address{};
    socklen_t length = 0;
    if (ipv6_) {
      auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
      v6.sin6_family = AF_INET6;
      v6.sin6_addr = in6addr_loopback;
      length = sizeof v6;
    } else {
      auto& v4 = reinterpret_cast<sockaddr_in&>(address);
      v4.sin_family = AF_INET;
      v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      length = sizeof v4;
    }
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error(std::string("test server: cannot listen on ") + (ipv6_ ? "::1" : "127.0.0.1"));
    }
    port_ = ntohs(ipv6_ ? reinterpret_cast<sockaddr_in6&>(address).sin6_port
                        : reinterpret_cast<sockaddr_in&>(address).sin_port);
    // A client that goes away while a script writes must not kill the test: OpenSSL writes with write(2).
    std::signal(SIGPIPE, SIG_IGN);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stopping_ = true;
    accept_thread_.join();
    std::list<std::thread> threads;
    {
      const std::lock_guard lock(mutex_);
      threads.swap(connection_threads_);
    }
    for (std::thread& thread : threads) {
      thread.join();
    }
    ::close(listen_fd_);
  }

  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view target = "/") const {
    return std::string(tls_ ? "https" : "http") + (ipv6_ ? "://[::1]:" : "://127.0.0.1:") +
           std::to_string(port_) + std::string(target);
  }
  std::string origin() const { return url(""); }
  // TCP connections accepted so far.
  int accepted() const { return accepted_.load(); }
  // Scripts that have returned so far.
  int finished() const { return finished_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd poll_fd{listen_fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 5) <= 0) {
        continue;
      }
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        continue;
      }
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      // Bounds OpenSSL's blocking reads (the handshake, the rest of a partly received record).
      const timeval read_timeout{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);
      const int index = accepted_++;
      SSL* ssl = nullptr;
      if (tls_) {
        ssl = SSL_new(tls_.get());
        SSL_set_fd(ssl, fd);
      }
      const std::lock_guard lock(mutex_);
      connection_threads_.emplace_back([this, fd, ssl, index] {
        ServerConnection connection(fd, ssl, index, stopping_);
        if (connection.handshake()) {
          script_(connection);
        }
        ++finished_;
      });
    }
  }

  Script script_;
  std::shared_ptr<SSL_CTX> tls_;
  bool ipv6_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> finished_{0};
  std::mutex mutex_;
  std::list<std::thread> connection_threads_;
  std::thread accept_thread_;
};

// The response head of a Content-Length response; `extra` is inserted as is ("Connection: close\r\n").
inline std::string response_head(std::size_t content_length, std::string_view extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(content_length) +
         "\r\n" + std::string(extra) + "\r\n";
}

// A whole Content-Length response.
inline std::string ok_response(std::string_view body, std::string_view extra = "") {
  return response_head(body.size(), extra) + std::string(body);
}

// One chunk of a chunked body.
inline std::string chunk(std::string_view data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + std::string(data) + "\r\n";
}

}  // namespace rally::llm_proxy::testing
