#include "tests/support/test_env.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <random>

namespace rally::testing {
namespace {

// Fails the current test (never skips it) when a server the test needs was not provided.
std::string required_env(const char* name, const char* what) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    FAIL(name
         << " is not set: run the tests with `./rally test`, which starts throwaway servers, or set it to "
         << what);
  }
  return value;
}

std::string random_hex(std::size_t digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::random_device device;
  std::uniform_int_distribution<int> digit(0, 15);
  std::string text(digits, '0');
  for (char& c : text) {
    c = kDigits[digit(device)];
  }
  return text;
}

// The same server as `url`, database `database`. Handles URIs (with or without a path or query string)
// and key=value connection strings, where a later dbname overrides an earlier one.
std::string with_database(const std::string& url, const std::string& database) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    return url + " dbname=" + database;
  }
  const std::size_t authority_end = url.find_first_of("/?", scheme + 3);
  if (authority_end == std::string::npos) {
    return url + "/" + database;
  }
  if (url[authority_end] == '?') {
    return url.substr(0, authority_end) + "/" + database + url.substr(authority_end);
  }
  const std::size_t path_end = url.find('?', authority_end);
  return url.substr(0, authority_end + 1) + database +
         (path_end == std::string::npos ? std::string() : url.substr(path_end));
}

}  // namespace

std::string postgres_url() {
  return required_env(
      "RALLY_TEST_PG_URL",
      "a superuser URI of a throwaway PostgreSQL, e.g. postgresql://rally@127.0.0.1:55432/postgres");
}

common::HostPort redis_address() {
  const std::string text = required_env("RALLY_TEST_REDIS_ADDR", "the host:port of a throwaway Redis");
  const std::optional<common::HostPort> address = common::HostPort::parse(text);
  if (!address) {
    FAIL("RALLY_TEST_REDIS_ADDR=" << text << " is not host:port");
  }
  return *address;
}

ScratchDatabase::ScratchDatabase() : name_("rally_test_" + random_hex(16)) {
  const std::string admin_url = postgres_url();
  pqxx::connection admin(admin_url);
  pqxx::nontransaction tx(admin);  // CREATE DATABASE cannot run inside a transaction block
  tx.exec("CREATE DATABASE " + tx.quote_name(name_));
  url_ = with_database(admin_url, name_);
}

ScratchDatabase::~ScratchDatabase() {
  // postgres_url() succeeded in the constructor; read the variable directly so a destructor never FAILs.
  const char* admin_url = std::getenv("RALLY_TEST_PG_URL");
  try {
    pqxx::connection admin(admin_url == nullptr ? "" : admin_url);
    pqxx::nontransaction tx(admin);
    // FORCE ends sessions a test left open (e.g. a pool still holding connections).
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::cerr << "warning: could not drop scratch database " << name_ << ": " << e.what() << '\n';
  }
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    FAIL("socket(): " << std::strerror(errno));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks an unused port
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error_number = errno;
  ::close(fd);
  if (!ok) {
    FAIL("binding 127.0.0.1:0: " << std::strerror(error_number));
  }
  return ntohs(address.sin_port);
}

}  // namespace rally::testing
