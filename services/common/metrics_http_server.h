// A minimal HTTP endpoint serving GET /metrics (and GET /healthz) from a metrics Registry, for the gRPC
// services, which have no HTTP listener of their own. Beast stays inside the .cc file.
#pragma once

#include <cstdint>
#include <memory>

#include "services/common/config.h"

namespace rally::common::metrics {

class Registry;

class MetricsHttpServer {
 public:
  // Binds at once (throws std::runtime_error naming the address when it cannot); port 0 picks a free one.
  MetricsHttpServer(const HostPort& listen, Registry& registry);
  ~MetricsHttpServer();  // stops and joins
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rally::common::metrics
