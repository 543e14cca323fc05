#include "gateway/http/response.h"

#include <utility>

namespace rally::gateway::http {

Response Response::json(int status, std::string body) {
  return text(status, std::move(body), kJsonContentType);
}

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response response;
  response.status = status;
  response.headers.set("Content-Type", std::string(content_type));
  response.body = std::move(body);
  return response;
}

}  // namespace rally::gateway::http
