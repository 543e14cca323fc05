#include "gateway/http/http_server.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/http/listener.h"
#include "gateway/http/server_context.h"

namespace rally::gateway::http {
namespace {

using Clock = std::chrono::steady_clock;

// After force_close() a connection ends as soon as its strand runs; this only bounds a wedged handler.
constexpr std::chrono::seconds kForceCloseGrace{2};

}  // namespace

// Members are destroyed in reverse order: the io_context (and with it every connection) goes before the
// context, registry and metrics the connections refer to.
struct HttpServer::Impl {
  Impl(const HttpServerSettings& settings, const Router& router, common::metrics::Registry& registry)
      : metrics(registry),
        connections(metrics.open_connections()),
        context{settings,
                router,
                metrics,
                connections,
                std::make_shared<IoGate>(),
                CorsPolicy(settings.cors_origins)},
        io(settings.io_threads),
        listener(std::make_shared<Listener>(io, settings.listen, context)) {}

  void start() {
    listener->start();
    threads.reserve(static_cast<std::size_t>(context.settings.io_threads));
    for (int i = 0; i < context.settings.io_threads; ++i) {
      threads.emplace_back([this, i] {
        const std::string name = "rally-io-" + std::to_string(i);
        pthread_setname_np(pthread_self(), name.c_str());
        io.run();
      });
    }
  }

  void shutdown(std::chrono::milliseconds drain) {
    listener->stop();
    {
      const auto draining = connections.begin_shutdown();  // from now on, newcomers are turned away
      if (drain > std::chrono::milliseconds::zero()) {
        for (const auto& connection : draining) {
          connection->begin_shutdown();
        }
      }
    }  // released here: a drained connection must be able to go away
    if (drain > std::chrono::milliseconds::zero() && !connections.wait_until_empty(Clock::now() + drain)) {
      spdlog::warn("{} connection(s) still busy after the {} ms drain; closing them", connections.size(),
                   drain.count());
    }
    for (const auto& connection : connections.live()) {
      connection->force_close();
    }
    if (!connections.wait_until_empty(Clock::now() + kForceCloseGrace)) {
      spdlog::error("{} connection(s) did not close; stopping their I/O anyway", connections.size());
    }
    io.stop();
    for (auto& thread : threads) {
      thread.join();
    }
    // From here no exchange or WebSocket channel can reach a connection: late answers are dropped.
    context.gate->close();
  }

  HttpMetrics metrics;
  ConnectionRegistry connections;
  ServerContext context;
  boost::asio::io_context io;
  std::shared_ptr<Listener> listener;
  std::vector<std::thread> threads;
  std::once_flag shutdown_once;
};

HttpServer::HttpServer(const HttpServerSettings& settings, const Router& router,
                       common::metrics::Registry& registry)
    : impl_(std::make_unique<Impl>(settings, router, registry)) {
  impl_->start();
}

HttpServer::~HttpServer() {
  shutdown(std::chrono::milliseconds::zero());
}

std::uint16_t HttpServer::port() const {
  return impl_->listener->port();
}

void HttpServer::shutdown(std::chrono::milliseconds drain) {
  std::call_once(impl_->shutdown_once, [&] { impl_->shutdown(drain); });
}

}  // namespace rally::gateway::http
