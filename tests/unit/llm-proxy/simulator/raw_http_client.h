// A deliberately low-level HTTP/1.1 client for the simulator's tests: POSIX sockets (optionally OpenSSL),
// raw bytes in and out, so tests can assert the exact bytes on the wire, read a stream event by event,
// and hang up at any moment. Header-only and Beast-free to keep test binaries quick to build.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rally::llm_simulator::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// "POST /v1/... HTTP/1.1" with Host, the given headers, and Content-Length when there is a body.
inline std::string request_text(std::string_view method, std::string_view target, const Headers& headers = {},
                                std::string_view body = {}) {
  std::string text = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) text.append(name).append(": ").append(value).append("\r\n");
  if (!body.empty() || method == "POST") text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  text += "\r\n";
  text += body;
  return text;
}

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  bool chunked = false;
  std::string body;                 // de-chunked
  std::vector<std::string> chunks;  // chunk payloads in arrival order (chunked responses)
  bool complete = false;            // Content-Length reached, or the terminating chunk seen
  std::size_t size = 0;             // bytes of `raw` this response used (when complete)

  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Parses as much of one response as `raw` holds; nullopt until the head is complete. Throws on bytes that
// are not HTTP/1.1, so a broken server fails the test loudly.
inline std::optional<ParsedResponse> parse_response(std::string_view raw) {
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  ParsedResponse response;
  std::string_view head = raw.substr(0, head_end);
  const std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (!status_line.starts_with("HTTP/1.1 ") || status_line.size() < 12) {
    throw std::runtime_error("not an HTTP/1.1 status line: " + std::string(status_line));
  }
  response.status = std::stoi(std::string(status_line.substr(9, 3)));
  head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 2);
  while (!head.empty()) {
    const std::size_t end = std::min(head.find("\r\n"), head.size());
    const std::string_view line = head.substr(0, end);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("bad header line: " + std::string(line));
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    response.headers[name] = std::string(value);
    head.remove_prefix(std::min(end + 2, head.size()));
  }
  std::string_view rest = raw.substr(head_end + 4);
  if (response.header("transfer-encoding") == "chunked") {
    response.chunked = true;
    std::size_t used = 0;
    while (true) {
      const std::size_t size_end = rest.find("\r\n", used);
      if (size_end == std::string_view::npos) break;
      const std::size_t chunk_size = std::stoul(std::string(rest.substr(used, size_end - used)), nullptr, 16);
      if (rest.size() < size_end + 2 + chunk_size + 2) break;
      if (chunk_size == 0) {
        response.complete = true;
        response.size = head_end + 4 + size_end + 4;
        break;
      }
      response.chunks.emplace_back(rest.substr(size_end + 2, chunk_size));
      response.body += response.chunks.back();
      used = size_end + 2 + chunk_size + 2;
    }
  } else {
    const std::size_t length =
        std::stoul(response.header("content-length").empty() ? "0" : response.header("content-length"));
    response.body = std::string(rest.substr(0, std::min(length, rest.size())));
    response.complete = rest.size() >= length;
    if (response.complete) response.size = head_end + 4 + length;
  }
  return response;
}

// Splits a text/event-stream body into its events, each without the blank line that ends it.
inline std::vector<std::string> split_events(std::string_view body) {
  std::vector<std::string> events;
  while (!body.empty()) {
    const std::size_t end = body.find("\n\n");
    if (end == std::string_view::npos) {
      events.emplace_back(body);
      break;
    }
    events.emplace_back(body.substr(0, end));
    body.remove_prefix(end + 2);
  }
  return events;
}

class Connection {
 public:
  // A TCP connection to 127.0.0.1:port; with `ca_file`, a TLS session on top that verifies the server
  // against that CA and `server_name` (sent as SNI). Throws on failure, with OpenSSL's reason.
  explicit Connection(int port, const std::string& ca_file = {},
                      const std::string& server_name = "localhost") {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error(std::string("connect: ") + std::strerror(error));
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!ca_file.empty()) {
      try {
        start_tls(ca_file, server_name);
      } catch (...) {
        close();  // the destructor does not run for a constructor that throws
        throw;
      }
    }
  }

  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const long sent = ssl_ != nullptr ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                                        : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
  }

  // Reads until `done(received())` holds, the peer closes, or `timeout` passes; returns `done`'s verdict.
  bool read_until(const std::function<bool(std::string_view)>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(received_)) {
      if (peer_closed_) return false;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
        pollfd poll_fd{fd_, POLLIN, 0};
        if (::poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) continue;
      }
      read_some();
    }
    return true;
  }

  // Reads one complete response (or up to the peer closing / the timeout) and parses it.
  ParsedResponse read_response(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    read_until(
        [](std::string_view raw) {
          const auto response = parse_response(raw);
          return response && response->complete;
        },
        timeout);
    auto response = parse_response(received_);
    if (!response) throw std::runtime_error("no response head in: " + received_);
    if (response->complete) received_.erase(0, response->size);
    return *response;
  }

  // Reads until the peer closes the connection; true when it did within `timeout`.
  bool wait_for_close(std::chrono::milliseconds timeout) {
    read_until([](std::string_view) { return false; }, timeout);
    return peer_closed_;
  }

  const std::string& received() const { return received_; }
  bool peer_closed() const { return peer_closed_; }
  int native_handle() const { return fd_; }
  // How the TLS session ended, for tests of the handshake: the negotiated protocol version.
  std::string tls_version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

  // Hangs up with a FIN, as a client that stops waiting does.
  void close() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (context_ != nullptr) {
      SSL_CTX_free(context_);
      context_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  // Hangs up with a reset (SO_LINGER 0), as a crashed client or a proxy cancelling a request does.
  void reset() {
    if (fd_ >= 0) {
      const linger hard{1, 0};
      ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    close();
  }

 private:
  void start_tls(const std::string& ca_file, const std::string& server_name) {
    context_ = SSL_CTX_new(TLS_client_method());
    if (context_ == nullptr || SSL_CTX_load_verify_locations(context_, ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load CA " + ca_file + ": " + openssl_error());
    }
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, server_name.c_str());
    // Verify the name (or the IP address) the way HTTPS clients do.
    if (server_name.find_first_not_of("0123456789.") == std::string::npos) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), server_name.c_str());
    } else {
      SSL_set1_host(ssl_, server_name.c_str());
    }
    if (SSL_connect(ssl_) != 1) {
      const long verify = SSL_get_verify_result(ssl_);
      throw std::runtime_error("TLS handshake failed: " + openssl_error() +
                               (verify != X509_V_OK
                                    ? std::string(" (") + X509_verify_cert_error_string(verify) + ")"
                                    : std::string()));
    }
  }

  static std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
  }

  void read_some() {
    char buffer[16384];
    if (ssl_ != nullptr) {
      const int n = SSL_read(ssl_, buffer, sizeof buffer);
      if (n > 0) {
        received_.append(buffer, static_cast<std::size_t>(n));
      } else {
        ERR_clear_error();
        peer_closed_ = true;
      }
      return;
    }
    const long n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      received_.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      peer_closed_ = true;
    }
  }

  int fd_ = -1;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string received_;
  bool peer_closed_ = false;
};

}  // namespace rally::llm_simulator::testing
