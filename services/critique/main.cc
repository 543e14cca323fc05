// rally-critique: wires configuration to the critique service and runs it (see
// services/common/service_main.h).
#include <memory>
#include <vector>

#include "migrations/rally_critique.h"
#include "services/common/service_main.h"
#include "services/critique/rpc/critique_service.h"

int main(int argc, char** argv) {
  using namespace rally;
  common::ServiceDefinition service;
  service.name = "critique";
  service.config_prefix = "CRITIQUE";
  service.default_listen = {"127.0.0.1", 50054};
  service.default_metrics_listen = {"127.0.0.1", 9104};
  service.migrations = &critique::migrations();
  service.grpc_service_names = {v1::Critique::service_full_name()};
  service.make_services = [](common::ServiceContext& context) {
    std::vector<std::unique_ptr<grpc::Service>> handlers;
    handlers.push_back(critique::make_critique_service(context));
    return handlers;
  };
  return common::run_service(argc, argv, service);
}
