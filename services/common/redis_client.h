// Redis over hiredis (RESP2, synchronous). Calls never hang: connect and command timeouts apply, a failed
// connection is dropped and re-opened on a later call (at most once per reconnect_backoff), and in between
// calls fail fast with RedisUnavailable so callers can fall back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "services/common/config.h"

namespace rally::common {

struct RedisSettings {
  // RALLY_REDIS_ADDR.
  HostPort address{"127.0.0.1", 56379};
  // RALLY_REDIS_PASSWORD (secret; sent with AUTH when set).
  std::string password;
  // RALLY_REDIS_CONNECT_TIMEOUT, RALLY_REDIS_COMMAND_TIMEOUT, RALLY_REDIS_RECONNECT_BACKOFF.
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{500};
  std::chrono::milliseconds reconnect_backoff{250};

  static RedisSettings from(const ConfigSource& config);
};

// The server could not be reached, timed out, or the connection broke.
class RedisUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A decoded reply, owning its data.
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;  // kString, kStatus, kError
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::kError; }
};

// A Lua script with its SHA-1, run with EVALSHA (loaded with EVAL on NOSCRIPT).
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

// One connection, serialised by a mutex: enough for health checks, publishing and rate-limit scripts.
class RedisClient {
 public:
  explicit RedisClient(RedisSettings settings);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command (binary-safe arguments). A Redis error reply is returned as kError, not thrown;
  // connection problems throw RedisUnavailable.
  RedisReply command(const std::vector<std::string>& args);
  bool ping();
  // Number of subscribers that received the message.
  long long publish(std::string_view channel, std::string_view message);
  RedisReply eval(const RedisScript& script, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Subscribes to channels (or glob patterns when `patterns` is true) on a dedicated connection and thread,
// delivering each message to the handler on that thread. Reconnects and resubscribes after failures.
class RedisSubscriber {
 public:
  using Handler = std::function<void(std::string_view channel, std::string_view message)>;

  RedisSubscriber(RedisSettings settings, std::vector<std::string> channels, bool patterns, Handler handler);
  ~RedisSubscriber();  // stops and joins
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // True while subscribed on a live connection.
  bool connected() const { return connected_.load(); }

 private:
  void run();

  RedisSettings settings_;
  std::vector<std::string> channels_;
  bool patterns_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace rally::common
