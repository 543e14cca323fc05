#include "services/common/rpc_observer.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/request_id.h"

namespace rally::common {
namespace {

using grpc::experimental::InterceptionHookPoints;

struct RpcMetrics {
  metrics::Family<metrics::Counter>& handled = metrics::Registry::global().counter(
      "rally_grpc_server_handled_total", "gRPC calls finished, by method and status code",
      {"method", "code"});
  metrics::Family<metrics::Histogram>& latency = metrics::Registry::global().histogram(
      "rally_grpc_server_handling_seconds", "Time from receiving a gRPC call to sending its status",
      {"method"});
};

std::string request_id_from_metadata(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  const auto it = metadata.find(grpc::string_ref(kRequestIdMetadataKey.data(), kRequestIdMetadataKey.size()));
  if (it != metadata.end()) {
    const std::string_view value(it->second.data(), it->second.size());
    if (is_valid_request_id(value)) return std::string(value);
  }
  return new_request_id();
}

class RpcObserver final : public grpc::experimental::Interceptor {
 public:
  RpcObserver(std::string method, RpcMetrics& metrics)
      : method_(std::move(method)), metrics_(metrics), started_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      request_id_ = request_id_from_metadata(*methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      record(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void record(const grpc::Status& status) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const char* code = grpc_code_name(status.error_code());
    metrics_.handled.labels({method_, code}).inc();
    metrics_.latency.labels({method_}).observe(seconds);
    ScopedRequestId scope(request_id_.empty() ? new_request_id() : request_id_);
    if (status.ok()) {
      spdlog::info("rpc {} {} {:.1f} ms", method_, code, seconds * 1000.0);
    } else {
      spdlog::info("rpc {} {} {:.1f} ms: {}", method_, code, seconds * 1000.0, status.error_message());
    }
  }

  std::string method_;
  RpcMetrics& metrics_;
  std::chrono::steady_clock::time_point started_;
  std::string request_id_;
};

class RpcObserverFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new RpcObserver(info->method(), metrics_);  // gRPC takes ownership
  }

 private:
  RpcMetrics metrics_;
};

}  // namespace

std::string request_id_of(const grpc::ServerContextBase& context) {
  return request_id_from_metadata(context.client_metadata());
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_rpc_observer_factory() {
  return std::make_unique<RpcObserverFactory>();
}

const char* grpc_code_name(int code) {
  static constexpr std::array<const char*, 17> kNames{
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  return code >= 0 && code < static_cast<int>(kNames.size()) ? kNames[static_cast<std::size_t>(code)]
                                                             : "UNKNOWN";
}

}  // namespace rally::common
