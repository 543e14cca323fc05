#include "tests/support/servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/support/http_client.h"

#ifndef RALLY_PG_BIN_DIR
#error "RALLY_PG_BIN_DIR must be defined by the build"
#endif
#ifndef RALLY_ANVIL_BIN
#error "RALLY_ANVIL_BIN must be defined by the build"
#endif

namespace rally::testing {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string pg_bin(const char* name) {
  return std::string(RALLY_PG_BIN_DIR) + "/" + name;
}

// True when the JSON-RPC server on 127.0.0.1:port answers eth_chainId with chain_id.
bool answers_chain_id(int port, int chain_id) {
  std::ostringstream expected;
  expected << "\"result\":\"0x" << std::hex << chain_id << '"';
  const HttpResult result =
      http_request(port, "POST", "/", R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]})",
                   {{"content-type", "application/json"}}, 500ms);
  return result.status == 200 && result.body.find(expected.str()) != std::string::npos;
}

}  // namespace

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

SilentListener::SilentListener() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd_ >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(fd_, 16) == 0);
  REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  port_ = ntohs(address.sin_port);
}

SilentListener::~SilentListener() {
  ::close(fd_);
}

RedisServer::RedisServer(int port, std::string password) : port_(port), password_(std::move(password)) {
  start();
}

RedisServer::~RedisServer() {
  if (process_) process_->stop(SIGTERM, 5s);
  process_.reset();
}

void RedisServer::start() {
  if (process_ && process_->running()) return;
  std::vector<std::string> argv{RALLY_REDIS_SERVER_BIN,
                                "--bind",
                                "127.0.0.1",
                                "--port",
                                std::to_string(port_),
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                directory_.path().string()};
  if (!password_.empty()) {
    argv.push_back("--requirepass");
    argv.push_back(password_);
  }
  process_.emplace(std::move(argv), std::map<std::string, std::string>{},
                   (directory_.path() / "redis.log").string());
  if (!wait_until([&] { return accepts_connections(port_); }, 10s)) {
    FAIL("redis-server did not start on port " << port_ << "; its log:\n" << process_->read_log());
  }
}

void RedisServer::stop() {
  if (!process_) return;
  REQUIRE(process_->stop(SIGTERM, 5s).has_value());
  process_.reset();
}

AnvilServer::AnvilServer(int port, std::vector<std::string> extra_args)
    : port_(port), extra_args_(std::move(extra_args)) {
  start();
}

AnvilServer::~AnvilServer() {
  if (process_) process_->stop(SIGTERM, 5s);
  process_.reset();
}

std::string AnvilServer::rpc_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void AnvilServer::start() {
  if (process_ && process_->running()) return;
  // Another node on the port would answer the readiness check and the test would use the wrong chain.
  if (accepts_connections(port_)) FAIL("cannot start anvil: port " << port_ << " on 127.0.0.1 is taken");
  std::vector<std::string> argv{
      RALLY_ANVIL_BIN,          "--host",  "127.0.0.1", "--port", std::to_string(port_), "--chain-id",
      std::to_string(kChainId), "--silent"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_.emplace(std::move(argv), std::map<std::string, std::string>{},
                   (directory_.path() / "anvil.log").string());
  // Stop polling early when anvil exits (a taken port, a bad argument): its log says why.
  const bool ready =
      wait_until([&] { return !process_->running() || answers_chain_id(port_, kChainId); }, 15s) &&
      process_->running();
  if (!ready) {
    FAIL("anvil (" RALLY_ANVIL_BIN ") did not answer eth_chainId on port "
         << port_ << "; run `npm ci --prefix services/critique/contracts` if it is missing; its log:\n"
         << process_->read_log());
  }
}

void AnvilServer::stop() {
  if (!process_) return;
  REQUIRE(process_->stop(SIGTERM, 5s).has_value());
  process_.reset();
}

PostgresCluster::PostgresCluster(int port) : port_(port) {
  if (::geteuid() == 0) {
    const passwd* postgres = ::getpwnam("postgres");
    REQUIRE(postgres != nullptr);
    REQUIRE(::chown(directory_.path().c_str(), postgres->pw_uid, postgres->pw_gid) == 0);
  }
  run(pg_bin("initdb") + " --no-sync -D " + (directory_.path() / "data").string() +
      " -U rally --auth=trust -E UTF8 --locale=C.UTF-8 >" + (directory_.path() / "initdb.log").string() +
      " 2>&1");
  start();
  run(pg_bin("psql") + " -h 127.0.0.1 -p " + std::to_string(port_) +
      " -U rally -d postgres -qc 'CREATE DATABASE rally' >/dev/null");
}

PostgresCluster::~PostgresCluster() {
  if (running_) {
    const std::string as_postgres = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    [[maybe_unused]] const int ignored_status =
        std::system((as_postgres + pg_bin("pg_ctl") + " -D " + (directory_.path() / "data").string() +
                     " -m immediate -w stop " + ">/dev/null 2>&1")
                        .c_str());
  }
}

std::string PostgresCluster::url() const {
  return "postgresql://rally@127.0.0.1:" + std::to_string(port_) + "/rally";
}

void PostgresCluster::start() {
  if (running_) return;
  run(pg_bin("pg_ctl") + " -D " + (directory_.path() / "data").string() + " -l " +
      (directory_.path() / "server.log").string() + " -w -o \"-c listen_addresses=127.0.0.1 -p " +
      std::to_string(port_) + " -k " + directory_.path().string() + " -c fsync=off\" start >/dev/null");
  running_ = true;
}

void PostgresCluster::stop() {
  if (!running_) return;
  run(pg_bin("pg_ctl") + " -D " + (directory_.path() / "data").string() + " -m fast -w stop >/dev/null");
  running_ = false;
}

void PostgresCluster::run(const std::string& command) const {
  // initdb and postgres refuse to run as root.
  const std::string full = (::geteuid() == 0 ? "runuser -u postgres -- " : "") + command;
  const int status = std::system(full.c_str());
  if (status != 0) {
    FAIL(full << "\nexited with status " << status << "; initdb log:\n"
              << read_file(directory_.path() / "initdb.log") << "\nserver log:\n"
              << read_file(directory_.path() / "server.log"));
  }
}

}  // namespace rally::testing
