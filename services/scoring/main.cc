// rally-scoring: wires configuration to the scoring service and runs it (see services/common/service_main.h).
#include <memory>
#include <vector>

#include "migrations/rally_scoring.h"
#include "services/common/service_main.h"
#include "services/scoring/rpc/scoring_service.h"

int main(int argc, char** argv) {
  using namespace rally;
  common::ServiceDefinition service;
  service.name = "scoring";
  service.config_prefix = "SCORING";
  service.default_listen = {"127.0.0.1", 50053};
  service.default_metrics_listen = {"127.0.0.1", 9103};
  service.migrations = &scoring::migrations();
  service.grpc_service_names = {v1::Scoring::service_full_name()};
  service.make_services = [](common::ServiceContext& context) {
    std::vector<std::unique_ptr<grpc::Service>> handlers;
    handlers.push_back(scoring::make_scoring_service(context));
    return handlers;
  };
  return common::run_service(argc, argv, service);
}
