// What every gRPC service does for every call, whatever the handler: carry the gateway's request id into
// the handler's log lines, write one log line per finished call, and count calls and latency per method.
#pragma once

#include <memory>
#include <string>

namespace grpc {
class ServerContextBase;
namespace experimental {
class ServerInterceptorFactoryInterface;
}
}  // namespace grpc

namespace rally::common {

// The request id the gateway sent with this call (x-request-id metadata) when it is well formed, else a new
// one. Handlers open a ScopedRequestId with it so their own log lines carry it.
std::string request_id_of(const grpc::ServerContextBase& context);

// A server interceptor factory that logs "rpc <method> <code> <ms> ms" with the call's request id when
// each call ends, and records rally_grpc_server_handled_total{method,code} and
// rally_grpc_server_handling_seconds{method} in the global metrics registry.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_rpc_observer_factory();

// "OK", "INVALID_ARGUMENT", ... as gRPC spells the codes.
const char* grpc_code_name(int code);

}  // namespace rally::common
