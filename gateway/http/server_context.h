// What every connection of one HttpServer shares. The server owns it and destroys its io_context (and with
// it every connection) before it, so connections may hold plain references. Internal to gateway/http and
// gateway/ws.
#pragma once

#include <memory>

#include "gateway/http/connection_registry.h"
#include "gateway/http/edge_headers.h"
#include "gateway/http/http_metrics.h"
#include "gateway/http/http_server.h"
#include "gateway/http/io_gate.h"

namespace rally::gateway::http {

class Router;

struct ServerContext {
  HttpServerSettings settings;
  const Router& router;
  HttpMetrics& metrics;
  ConnectionRegistry& connections;
  std::shared_ptr<IoGate> gate;  // shared with exchanges, which may outlive the server
  CorsPolicy cors;               // from settings.cors_origins
};

}  // namespace rally::gateway::http
