// A complete response as route handlers build it, free of Beast. The server adds X-Request-Id and owns the
// framing fields (Content-Length, Transfer-Encoding, Connection): a handler's values for those are ignored.
#pragma once

#include <string>
#include <string_view>

#include "gateway/http/headers.h"

namespace rally::gateway::http {

inline constexpr std::string_view kJsonContentType = "application/json";

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // `body` is serialized JSON.
  static Response json(int status, std::string body);
  static Response text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
};

}  // namespace rally::gateway::http
