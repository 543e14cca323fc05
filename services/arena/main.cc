// rally-arena: wires configuration to the arena service and runs it (see services/common/service_main.h).
#include <memory>
#include <vector>

#include "migrations/rally_arena.h"
#include "services/arena/rpc/arena_service.h"
#include "services/common/service_main.h"

int main(int argc, char** argv) {
  using namespace rally;
  common::ServiceDefinition service;
  service.name = "arena";
  service.config_prefix = "ARENA";
  service.default_listen = {"127.0.0.1", 50052};
  service.default_metrics_listen = {"127.0.0.1", 9102};
  service.migrations = &arena::migrations();
  service.grpc_service_names = {v1::Arena::service_full_name()};
  service.make_services = [](common::ServiceContext& context) {
    std::vector<std::unique_ptr<grpc::Service>> handlers;
    handlers.push_back(arena::make_arena_service(context));
    return handlers;
  };
  return common::run_service(argc, argv, service);
}
