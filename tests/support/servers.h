// Real servers a test owns and may stop and restart. The shared throwaway servers of `./rally test` must
// stay up for every other test, so a test that takes a dependency away starts its own.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// An anvil (Foundry's local Ethereum node, from services/critique/contracts/node_modules) on
// 127.0.0.1:port with chain id 696969, the original app's chain. It mines each transaction at once unless
// extra_args say otherwise (e.g. {"--block-time", "1"}). stop() and start() keep the port, not the chain: a
// restarted node starts from the genesis block unless extra_args hold `--state FILE`.
class AnvilServer {
 public:
  static constexpr int kChainId = 696969;
  // anvil's well-known dev accounts 0 and 1 (from its default mnemonic "test test ... junk"). These keys
  // are public and fund only throwaway local chains: never use them anywhere real.
  static constexpr std::string_view kDeployerKey =
      "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
  static constexpr std::string_view kDeployerAddress = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  static constexpr std::string_view kWorkerKey =
      "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
  static constexpr std::string_view kWorkerAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

  explicit AnvilServer(int port, std::vector<std::string> extra_args = {});
  ~AnvilServer();
  AnvilServer(const AnvilServer&) = delete;
  AnvilServer& operator=(const AnvilServer&) = delete;

  void start();  // returns once it answers JSON-RPC (eth_chainId); fails the test with its log otherwise
  void stop();   // returns once it has exited
  int port() const { return port_; }
  std::string rpc_url() const;  // http://127.0.0.1:port

 private:
  int port_;
  std::vector<std::string> extra_args_;
  TemporaryDirectory directory_{"rally-anvil-"};
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
