// Real servers a test owns and may stop and restart. The shared throwaway servers of `./rally test` must
// stay up for every other test, so a test that takes a dependency away starts its own.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "services/common/config.h"
#include "tests/support/process.h"
#include "tests/support/temporary_directory.h"

namespace rally::testing {

// A redis-server on 127.0.0.1:port without persistence, password protected when a password is given.
// stop() and start() keep the port.
class RedisServer {
 public:
  explicit RedisServer(int port, std::string password = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void start();  // returns once it accepts connections; fails the test with its log otherwise
  void stop();   // returns once it has exited
  common::HostPort address() const { return {"127.0.0.1", static_cast<std::uint16_t>(port_)}; }
  const std::string& password() const { return password_; }

 private:
  int port_;
  std::string password_;
  TemporaryDirectory directory_{"rally-redis-"};
  std::optional<ChildProcess> process_;
};

// A PostgreSQL 15 cluster in a fresh temporary directory with superuser `rally` (trust authentication) and
// database `rally`; fsync is off because the cluster is thrown away. As root it runs as the postgres user,
// as PostgreSQL requires.
class PostgresCluster {
 public:
  explicit PostgresCluster(int port);
  ~PostgresCluster();  // stops the server at once and removes the directory
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  void start();  // returns once it accepts connections
  void stop();   // a fast shutdown, as on a deploy: sessions are terminated, connections closed
  int port() const { return port_; }
  std::string url() const;  // postgresql://rally@127.0.0.1:port/rally

 private:
  void run(const std::string& command) const;

  int port_;
  TemporaryDirectory directory_{"rally-pg-"};
  bool running_ = false;
};

// Accepts TCP connections on 127.0.0.1 (the kernel completes the handshake) but never reads or answers:
// the peer that makes clients time out.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }
  common::HostPort address() const { return {"127.0.0.1", static_cast<std::uint16_t>(port_)}; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// True when something accepts TCP connections on 127.0.0.1:port.
bool accepts_connections(int port);

}  // namespace rally::testing
