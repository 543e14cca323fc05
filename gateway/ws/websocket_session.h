// Serves one WebSocket connection after the HTTP session on the same port detected the upgrade request.
// Internal to the gateway's HTTP server: http_session.cc is its only includer (Beast types in the signature).
#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>

#include "gateway/http/headers.h"
#include "gateway/http/request.h"
#include "gateway/ws/websocket.h"

namespace rally::gateway::http {
struct ServerContext;
}

namespace rally::gateway::ws {

// Completes the handshake on `stream` (the 101 answer carries `handshake_headers` and the request's
// X-Request-Id), then delivers messages to `handler` until the connection ends.
void start_websocket_session(boost::beast::tcp_stream stream,
                             boost::beast::http::request<boost::beast::http::string_body> upgrade,
                             http::Request request, std::unique_ptr<WebSocketHandler> handler,
                             http::Headers handshake_headers, http::ServerContext& server);

}  // namespace rally::gateway::ws
