// One HTTP/1.1 connection: reads requests, routes them, hands each to its handler through an Exchange and
// writes the answers (complete or streamed), with keep-alive, timeouts and WebSocket upgrade. Internal to
// the gateway's HTTP server: the listener is its only includer.
#pragma once

#include <boost/asio/ip/tcp.hpp>

namespace rally::gateway::http {

struct ServerContext;

// Serves `socket`, whose executor must be a strand of its own, until the connection ends.
void start_http_session(boost::asio::ip::tcp::socket socket, ServerContext& server);

}  // namespace rally::gateway::http
