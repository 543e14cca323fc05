// A small blocking HTTP/1.1 client for tests (Beast stays in the .cc).
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace rally::testing {

struct HttpResult {
  int status = 0;                              // 0 when the connection failed
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;  // why status is 0

  std::string header(const std::string& lower_name) const;
};

// One request on a fresh connection to 127.0.0.1:port.
HttpResult http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body = {}, const std::map<std::string, std::string>& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace rally::testing
