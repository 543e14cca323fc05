// libFuzzer target over what the gateway makes of a request's bytes: the request target and the router,
// the JSON body checks, and every route's body parser with its translation to rally.v1 messages.
//
// The first input byte picks the parser (its value minus '0', modulo kParserCount, so the seed files start
// with a readable digit); the rest is that parser's input:
//
//   0  "[METHOD ]TARGET\n" then header lines "Name: value", as the HTTP session hands them to Request and
//      the router (which holds every route template of the gateway)
//   1  a JSON body: check_json_body at the server's default and at tight limits, parse_json_body
//   2  POST /vote                                 parse_vote_body
//   3  POST /api/v1/arena/battles                 parse_battle_body
//   4  POST /api/v1/arena/battles/{id}/vote       "ID\nBODY": ID is the raw path segment, routed and decoded
//                                                 by the router as the server does, then
//                                                 parse_battle_vote_body
//   5  GET .../stream?side=                       parse_battle_side of the query parameter's raw value
//   6  POST /llm_request[_streaming]              parse_simple_request, then complete_request_for
//   7  POST /v1/chat/completions                  parse_json_body, parse_chat_request, complete_request_for
//   8  POST /api/v1/admin/tokens                  parse_new_token_body
//   9  the scoring API: the next byte (minus '0', modulo 9) picks calculate, recalculate, batch,
//      add-suffix, batch-update, compare (query), ranking (query), configuration or validate; the rest is
//      the body, or the query string for the two GET routes
//   :  WebSocket /api/v1/ws/scoring             a client message: parse_subscription_request, applied to a
//                                                 ModelSubscription; the answers are UTF-8 JSON
//   ;  POST /criticize_user_request              parse_criticize_body
//
// Besides crashes, leaks and undefined behaviour, it checks what every answer to hostile input must keep
// (docs/security.md, "Hostile input"): a refusal is a 4xx whose envelope is valid UTF-8 JSON, and a message
// handed to an upstream survives a serialize/parse round trip (proto3 strings must be UTF-8, or the call
// fails upstream with a 500).
#include <google/protobuf/message.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/edge/access.h"
#include "gateway/http/envelope.h"
#include "gateway/http/headers.h"
#include "gateway/http/json_body.h"
#include "gateway/http/method.h"
#include "gateway/http/request.h"
#include "gateway/http/router.h"
#include "gateway/routes/arena_payloads.h"
#include "gateway/routes/critique_payloads.h"
#include "gateway/routes/llm_payloads.h"
#include "gateway/routes/scoring_payloads.h"
#include "gateway/routes/token_payloads.h"
#include "gateway/ws/model_subscription.h"
#include "services/common/errors.h"
#include "services/common/utf8.h"
#include "services/llm-proxy/wire/openai_wire.h"

namespace {

namespace http = rally::gateway::http;
namespace routes = rally::gateway::routes;
namespace ws = rally::gateway::ws;
namespace openai_wire = rally::openai_wire;
namespace json = boost::json;
using rally::common::Error;
using rally::common::Result;

constexpr std::size_t kParserCount = 12;

// An invariant broken by some input: libFuzzer records the input as a crash.
void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "gateway_request_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

// Valid UTF-8 and well-formed JSON: what a client receives as a response body.
void require_json_text(std::string_view text, const char* what) {
  require(rally::common::is_valid_utf8(text), what);
  boost::system::error_code ec;
  json::parse(json::string_view(text.data(), text.size()), ec);
  require(!ec, what);
}

// A parser's refusal: a client error (never a 500) whose envelope is valid JSON.
void check_refusal(const Error& error) {
  const int status = rally::common::info(error.code).http_status;
  require(status >= 400 && status < 500, "a parser refusal is a 4xx");
  const std::chrono::system_clock::time_point now{std::chrono::seconds(1'800'000'000)};
  require_json_text(http::render_error_envelope(error, "req_fuzz", now), "the error envelope is UTF-8 JSON");
}

// What goes upstream: it must serialize and parse back (a proto3 string that is not UTF-8 does not).
void check_upstream_message(const google::protobuf::Message& message) {
  const std::string bytes = message.SerializeAsString();
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  require(copy->ParseFromString(bytes), "the upstream message survives a serialize/parse round trip");
}

template <typename T>
void check_result(const Result<T>& result) {
  if (result.ok()) {
    check_upstream_message(result.value());
  } else {
    check_refusal(result.error());
  }
}

// Splits "first\nrest" at the first newline (all of it is `first` when there is none).
std::pair<std::string_view, std::string_view> split_line(std::string_view text) {
  const std::size_t newline = text.find('\n');
  if (newline == std::string_view::npos) return {text, {}};
  return {text.substr(0, newline), text.substr(newline + 1)};
}

void noop_handler(const std::shared_ptr<http::Exchange>&) {}

// The gateway's routes (docs/openapi.yaml lists the same), with no-op handlers: only matching matters.
const http::Router& gateway_router() {
  static const http::Router router = [] {
    http::Router r;
    using http::Method;
    for (const std::string_view path :
         {"/healthz", "/readyz", "/metrics", "/openapi.json", "/random_models", "/leaderboard", "/v1/models",
          "/v1/models/{model}", "/api/v1/arena/battles/{battle_id}/stream", "/api/v1/admin/tokens"}) {
      r.add(Method::kGet, path, noop_handler);
    }
    for (const std::string_view path :
         {"/vote", "/llm_request", "/llm_request_streaming", "/v1/chat/completions", "/api/v1/arena/battles",
          "/api/v1/arena/battles/{battle_id}/vote", "/api/v1/admin/tokens"}) {
      r.add(Method::kPost, path, noop_handler);
    }
    r.add(Method::kDelete, "/api/v1/admin/tokens/{token_id}", noop_handler);
    for (const std::string_view path : {"/api/v1/ws/leaderboard", "/api/v1/ws/scoring"}) {
      r.add_websocket(path,
                      [](const http::Request&) -> std::unique_ptr<ws::WebSocketHandler> { return nullptr; });
    }
    return r;
  }();
  return router;
}

// 0: the request line's target (and method) and headers, routed.
void fuzz_request(std::string_view input) {
  auto [line, rest] = split_line(input);
  http::Method method = http::Method::kGet;
  std::string_view target = line;
  if (const std::size_t space = line.find(' '); space != std::string_view::npos) {
    const std::optional<http::Method> parsed = http::parse_method(line.substr(0, space));
    if (!parsed) return;  // the server answers 501 before routing
    method = *parsed;
    require(http::to_string(method) == line.substr(0, space), "parse_method and to_string agree");
    target = line.substr(space + 1);
  }

  http::Headers headers;
  std::string last_value;
  while (!rest.empty()) {
    auto [field, next] = split_line(rest);
    rest = next;
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    last_value = std::string(field.substr(colon + 1));
    headers.add(std::string(field.substr(0, colon)), last_value);
  }

  http::Request request(method, std::string(target), std::move(headers));
  request.set_client_address(last_value);
  (void)request.client_host();
  if (const auto content_type = request.header("Content-Type")) (void)http::is_json_media_type(*content_type);
  (void)request.query_param("side");
  // The first names the query holds, looked up as a route would.
  std::string_view query = request.query();
  for (int looked_up = 0; looked_up < 16; ++looked_up) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    (void)request.query_param(pair.substr(0, pair.find('=')));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }

  const http::Router& router = gateway_router();
  http::RouteMatch match = router.match(method, request.path());
  switch (match.outcome) {
    case http::RouteMatch::Outcome::kMatched: {
      require(match.handler != nullptr && !match.route.empty(), "a match names its handler and route");
      const http::PathParams params = match.params;
      request.set_route(std::string(match.route), std::move(match.params));
      for (const auto& [name, value] : params) {
        require(request.path_param(name) == std::string_view(value), "path_param returns the decoded value");
      }
      break;
    }
    case http::RouteMatch::Outcome::kMethodNotAllowed:
      require(!match.allowed.empty(), "a 405 lists the allowed methods");
      (void)http::Router::allow_header(match.allowed);
      break;
    case http::RouteMatch::Outcome::kNotFound:
      break;
  }
  (void)router.match_websocket(request.path());
}

// 1: the server's checks of a JSON body and the route parsers' parse.
void fuzz_json_body(std::string_view body) {
  const http::JsonLimits server_limits;  // RALLY_GATEWAY_JSON_MAX_DEPTH and _MAX_STRING at their defaults
  const http::JsonLimits tight_limits{4, 16};
  for (const http::JsonLimits& limits : {server_limits, tight_limits}) {
    const std::optional<Error> limit_error = http::check_json_body(body, limits);
    if (limit_error) check_refusal(*limit_error);
    const Result<json::value> parsed = http::parse_json_body(body, limits);
    require(!(parsed.ok() && limit_error), "check_json_body refuses nothing parse_json_body accepts");
    if (!parsed.ok()) check_refusal(parsed.error());
  }

  const Result<json::value> parsed = http::parse_json_body(body);
  if (parsed.ok()) {
    (void)json::serialize(parsed.value());
  } else {
    check_refusal(parsed.error());
    // The route parsers' limits are wide enough never to contradict the server's: a body the server let
    // through fails them only for not being JSON.
    const bool server_passed = !http::check_json_body(body, server_limits).has_value();
    const auto& details = parsed.error().details;
    const bool not_json =
        std::find(details.begin(), details.end(),
                  std::pair<std::string, std::string>("reason", "invalid_json")) != details.end();
    require(!server_passed || not_json, "a body within the server's limits parses under the routes' limits");
  }
}

// 4: the battle id comes through the router, as the server hands it to the route.
void fuzz_battle_vote(std::string_view input) {
  const auto [segment, body] = split_line(input);
  if (segment.find_first_of("/?") != std::string_view::npos) return;  // another path, not this route
  const std::string path = "/api/v1/arena/battles/" + std::string(segment) + "/vote";
  http::RouteMatch match = gateway_router().match(http::Method::kPost, path);
  if (match.outcome != http::RouteMatch::Outcome::kMatched) return;  // 404 before any parser
  require(match.route == "/api/v1/arena/battles/{battle_id}/vote", "the vote route matches its paths");
  http::Request request(http::Method::kPost, path, {}, std::string(body));
  request.set_route(std::string(match.route), std::move(match.params));
  check_result(routes::parse_battle_vote_body(request.path_param("battle_id").value_or(""), request.body()));
}

// 5: ?side= as the stream route reads it.
void fuzz_battle_side(std::string_view query) {
  const http::Request request(http::Method::kGet, "/api/v1/arena/battles/bt_1/stream?" + std::string(query),
                              {});
  const Result<rally::v1::BattleSide> side =
      routes::parse_battle_side(request.query_param("side").value_or(""));
  if (!side.ok()) check_refusal(side.error());
}

// 6: the seed's LLM bodies and their CompleteRequest.
void fuzz_simple_request(std::string_view body) {
  const Result<routes::SimpleLlmRequest> parsed = routes::parse_simple_request(body);
  if (!parsed.ok()) return check_refusal(parsed.error());
  check_upstream_message(routes::complete_request_for(parsed.value()));
}

// 7: the OpenAI-compatible route, which answers in OpenAI's error format.
void fuzz_chat_completion(std::string_view body) {
  const Result<json::value> parsed = http::parse_json_body(body);
  if (!parsed.ok()) return;  // answered with the fixed kInvalidJsonMessage
  const Result<openai_wire::ChatRequest> chat = openai_wire::parse_chat_request(parsed.value(), "LlamaRally");
  if (!chat.ok()) {
    check_refusal(chat.error());
    return require_json_text(openai_wire::invalid_request_body(chat.error()),
                             "the OpenAI error is UTF-8 JSON");
  }
  (void)chat->json_mode();
  const Result<rally::v1::CompleteRequest> request = routes::complete_request_for(chat.value());
  if (!request.ok()) {
    check_refusal(request.error());
    return require_json_text(openai_wire::invalid_request_body(request.error()),
                             "the OpenAI error is UTF-8 JSON");
  }
  check_upstream_message(request.value());
}

// 8: a new API token (it goes to PostgreSQL, whose text must be UTF-8 too).
void fuzz_new_token(std::string_view body) {
  const Result<routes::NewTokenRequest> parsed = routes::parse_new_token_body(body);
  if (!parsed.ok()) return check_refusal(parsed.error());
  require(rally::common::is_valid_utf8(parsed->name), "a token name is UTF-8");
  (void)rally::gateway::edge::scope_name(parsed->scope);
  for (const auto& [route_class, limit] : parsed->rate_limits) {
    require(rally::common::is_valid_utf8(route_class), "a rate-limit class is UTF-8");
    (void)limit;
  }
}

// 9: the scoring API's bodies and queries.
void fuzz_scoring(std::string_view input) {
  if (input.empty()) return;
  const std::string_view rest = input.substr(1);
  const auto query = [&] { return http::Request(http::Method::kGet, "/x?" + std::string(rest), {}); };
  switch (static_cast<std::uint8_t>(input[0] - '0') % 9) {
    case 0:
      return check_result(routes::parse_calculate_body("gpt-4", rest));
    case 1:
      return check_result(routes::parse_recalculate_body("gpt-4", rest));
    case 2:
      return check_result(routes::parse_batch_body(rest));
    case 3:
      return check_result(routes::parse_add_suffix_body(rest));
    case 4:
      return check_result(routes::parse_batch_names_body(rest));
    case 5:
      return check_result(routes::parse_compare_query(query()));
    case 6:
      return check_result(routes::parse_ranking_query(query()));
    case 7:
      return check_result(routes::parse_configuration_body("fuzz", rest));
    default:
      return check_result(routes::parse_validate_body(rest));
  }
}

// ':' (10): a live-score client's message, which a connection applies to its set and answers.
void fuzz_scoring_ws(std::string_view message) {
  const Result<ws::SubscriptionRequest> request = ws::parse_subscription_request(message);
  if (!request.ok()) {
    check_refusal(request.error());
    return require_json_text(ws::subscription_error_message(request.error()),
                             "the error frame is UTF-8 JSON");
  }
  require(!request->model_ids.empty() && request->model_ids.size() <= ws::kMaxWatchedModels,
          "a request holds 1..kMaxWatchedModels ids");
  for (const std::string& id : request->model_ids) {
    require(!id.empty() && id.size() <= ws::kMaxModelIdBytes && rally::common::is_valid_utf8(id),
            "an id is 1..kMaxModelIdBytes bytes of UTF-8");
  }
  ws::ModelSubscription subscription;
  for (int round = 0; round < 2; ++round) {  // twice: the second time changes nothing
    if (const std::optional<Error> refused = subscription.apply(request.value())) check_refusal(*refused);
  }
  const bool subscribe = request->action == ws::SubscriptionRequest::Action::kSubscribe;
  for (const std::string& id : request->model_ids) {
    require(subscription.model_ids().contains(id) == subscribe, "a set holds what was subscribed, only that");
  }
  require(subscription.model_ids().size() <= ws::kMaxWatchedModels, "a set never exceeds kMaxWatchedModels");
  require_json_text(ws::subscribed_message(subscription), "the subscribed answer is UTF-8 JSON");
  const std::vector<std::string> aliases(
      request->model_ids.begin(),
      request->model_ids.begin() + std::min<std::size_t>(3, request->model_ids.size()));
  if (const auto id = subscription.match(request->model_ids.back(), aliases)) {
    require(
        *id == request->model_ids.back() || std::find(aliases.begin(), aliases.end(), *id) != aliases.end(),
        "a match is the key or one of the aliases");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (static_cast<std::uint8_t>(data[0] - '0') % kParserCount) {
    case 0:
      fuzz_request(input);
      break;
    case 1:
      fuzz_json_body(input);
      break;
    case 2:
      check_result(routes::parse_vote_body(input));
      break;
    case 3:
      check_result(routes::parse_battle_body(input));
      break;
    case 4:
      fuzz_battle_vote(input);
      break;
    case 5:
      fuzz_battle_side(input);
      break;
    case 6:
      fuzz_simple_request(input);
      break;
    case 7:
      fuzz_chat_completion(input);
      break;
    case 8:
      fuzz_new_token(input);
      break;
    case 9:
      fuzz_scoring(input);
      break;
    case 10:
      fuzz_scoring_ws(input);
      break;
    case 11:
      check_result(routes::parse_criticize_body(input));
      break;
  }
  return 0;
}
