#include "services/llm-proxy/simulator/simulator_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include "services/common/errors.h"
#include "services/common/metrics.h"
#include "services/common/request_id.h"
#include "services/llm-proxy/simulator/anthropic_format.h"
#include "services/llm-proxy/simulator/models_dev_document.h"
#include "services/llm-proxy/simulator/reply_generator.h"
#include "services/llm-proxy/simulator/text_generator.h"
#include "services/llm-proxy/wire/openai_wire.h"

namespace rally::llm_simulator {
namespace {

namespace json = boost::json;
namespace metrics = common::metrics;
using Clock = std::chrono::system_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// /v1/models lists these when RALLY_SIMULATOR_MODELS is not set (any other name is served as well).
constexpr std::array<std::string_view, 7> kBuiltInModels = {"gpt-4o",
                                                            "gpt-4o-mini",
                                                            "gpt-4-turbo",
                                                            "gpt-4",
                                                            "gpt-3.5-turbo",
                                                            "claude-3-5-sonnet-latest",
                                                            "claude-3-5-haiku-latest"};
constexpr std::int64_t kModelCreated = 1'700'000'000;  // a fixed "created" keeps /v1/models deterministic
constexpr std::string_view kModelOwner = "rally-llm-simulator";

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kEventStream = "text/event-stream; charset=utf-8";
constexpr std::string_view kPlainText = "text/plain; charset=utf-8";
constexpr std::string_view kTtftHeader = "x-sim-ttft-ms";
constexpr std::string_view kTokensPerSecondHeader = "x-sim-tokens-per-second";
constexpr std::int64_t kMaxTtftOverrideMs = 600'000;
constexpr double kMaxTokensPerSecond = 1e6;

constexpr std::string_view kOpenAiMissingKeyMessage =
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
    "you're accessing the API from your browser and are prompted for a username and password. You can "
    "obtain an API key from https://platform.openai.com/account/api-keys.";

enum class Api { kOpenAi, kAnthropic };

// When each token of a reply is ready: the first after the TTFT, each further one 1/TPS later.
struct Timing {
  microseconds ttft{0};
  double tokens_per_second = 0;  // 0: every token is ready at the TTFT

  microseconds token_ready(std::uint64_t index) const {
    if (tokens_per_second <= 0) return ttft;
    return ttft + microseconds(std::llround(static_cast<double>(index) * 1e6 / tokens_per_second));
  }
  // When a reply of `tokens` tokens is complete.
  microseconds reply_ready(std::uint64_t tokens) const { return token_ready(tokens == 0 ? 0 : tokens - 1); }
};

std::string lower_ascii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "sk-abc************wxyz": enough to recognise a key in an error, never the key itself.
std::string mask_key(std::string_view key) {
  if (key.size() <= 8) return std::string(key.size(), '*');
  return std::string(key.substr(0, 3)) + std::string(key.size() - 7, '*') +
         std::string(key.substr(key.size() - 4));
}

std::string retry_after_value(double seconds) {
  std::array<char, 32> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), seconds);
  return ec == std::errc() ? std::string(text.data(), end) : std::to_string(std::llround(seconds));
}

std::string_view endpoint_label(std::string_view path) {
  if (path == "/v1/chat/completions") return "chat_completions";
  if (path == "/v1/messages") return "messages";
  if (path == "/v1/models" || path.starts_with("/v1/models/")) return "models";
  if (path.starts_with("/_sim/")) return "control";
  if (path == kModelsDevPath) return "models_dev";
  return "other";
}

Exchange response(int status, std::string_view content_type, std::string body) {
  Exchange exchange;
  exchange.status = status;
  exchange.headers.emplace_back("content-type", content_type);
  exchange.body = std::move(body);
  return exchange;
}

Exchange openai_error(int status, std::string_view message, std::string_view type = "invalid_request_error",
                      std::optional<std::string_view> param = std::nullopt,
                      std::optional<std::string_view> code = std::nullopt) {
  return response(status, kJson, openai_wire::error_body(message, type, param, code));
}

// The simulator's model of a chat request: what the reply is a function of.
CompletionRequest completion_request_of(const openai_wire::ChatRequest& chat) {
  CompletionRequest completion;
  completion.model = chat.model;
  completion.messages.reserve(chat.messages.size());
  for (const openai_wire::Message& message : chat.messages) {
    completion.messages.push_back(ChatMessage{message.role, message.text});
  }
  completion.max_tokens = chat.max_tokens;
  completion.stop_sequences = chat.stop;
  // json_schema gets valid JSON too; it conforms to the schema only when a rule writes it that way.
  completion.json_mode = chat.json_mode();
  return completion;
}

std::string_view openai_finish_reason(FinishReason finish) {
  return finish == FinishReason::kMaxTokens ? "length" : "stop";
}

openai_wire::Usage openai_usage(const Reply& reply) {
  return {reply.prompt_tokens, reply.completion_tokens,
          std::uint64_t{reply.prompt_tokens} + reply.completion_tokens};
}

Exchange anthropic_error(int status, std::string_view message) {
  return response(status, kJson, anthropic::error_body(anthropic::error_type_for_status(status), message));
}

Exchange api_error(Api api, int status, std::string_view message) {
  return api == Api::kOpenAi ? openai_error(status, message, openai_wire::error_type_for_status(status))
                             : anthropic_error(status, message);
}

Exchange method_not_allowed(Api api, std::string_view method, std::string_view path, std::string_view allow) {
  Exchange exchange =
      api_error(api, 405, "Method " + std::string(method) + " is not allowed on " + std::string(path) + ".");
  exchange.headers.emplace_back("allow", allow);
  return exchange;
}

// Per-request pacing overrides for benchmarks and tests: x-sim-ttft-ms and x-sim-tokens-per-second.
std::optional<std::string> apply_timing_overrides(const HttpRequest& request, Timing& timing) {
  if (const std::string* value = request.find_header(kTtftHeader)) {
    std::int64_t ms = -1;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), ms);
    if (ec != std::errc() || end != value->data() + value->size() || ms < 0 || ms > kMaxTtftOverrideMs) {
      return "Invalid " + std::string(kTtftHeader) + " header \"" + *value +
             "\": expected an integer number of milliseconds from 0 to 600000.";
    }
    timing.ttft = milliseconds(ms);
  }
  if (const std::string* value = request.find_header(kTokensPerSecondHeader)) {
    double rate = -1;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), rate);
    if (ec != std::errc() || end != value->data() + value->size() || !(rate >= 0) ||
        rate > kMaxTokensPerSecond) {
      return "Invalid " + std::string(kTokensPerSecondHeader) + " header \"" + *value +
             "\": expected a number from 0 (unpaced) to 1000000.";
    }
    timing.tokens_per_second = rate;
  }
  return std::nullopt;
}

// Model and stream flag as the request log shows them, read before (and whether or not) validation passes.
void note_model_and_stream(const json::value& body, RequestRecord& record) {
  const json::object* object = body.if_object();
  if (object == nullptr) return;
  if (const json::value* model = object->if_contains("model"); model != nullptr && model->is_string()) {
    record.model = std::string(model->get_string());
  }
  if (const json::value* stream = object->if_contains("stream"); stream != nullptr && stream->is_bool()) {
    record.stream = stream->get_bool();
  }
}

// What every fault does to an exchange: the stall, the outcome it is recorded under, and Retry-After.
void apply_fault_basics(const Fault& fault, Exchange& exchange) {
  exchange.stall = fault.stall_before_first_byte;
  exchange.fault = std::string(fault.kind());
  if (fault.retry_after_seconds) {
    exchange.headers.emplace_back("retry-after", retry_after_value(*fault.retry_after_seconds));
  }
}

// Every line of a header as one list (RFC 9110 5.3), nullopt when absent.
std::optional<std::string> joined_header(const HttpRequest& request, std::string_view lower_name) {
  std::optional<std::string> joined;
  for (const auto& [name, value] : request.headers) {
    if (name != lower_name) continue;
    if (joined) {
      *joined += ", ";
      *joined += value;
    } else {
      joined = value;
    }
  }
  return joined;
}

// The cut a mid-stream fault makes: how many content chunks go out before it strikes.
std::optional<std::uint32_t> chunks_before_fault(const std::optional<Fault>& fault) {
  if (!fault) return std::nullopt;
  if (fault->drop_after_chunks) return fault->drop_after_chunks;
  if (fault->malformed_event_after_chunks) return fault->malformed_event_after_chunks;
  return fault->error_event_after_chunks;
}

}  // namespace

const std::string* HttpRequest::find_header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

struct SimulatorEngine::State {
  explicit State(const SimulatorSettings& simulator_settings)
      : settings(simulator_settings),
        log(simulator_settings.request_log_entries, simulator_settings.request_log_bytes),
        id_salt(std::random_device{}() ^ static_cast<std::uint64_t>(Clock::now().time_since_epoch().count())
                                             << 20),
        requests(metrics::Registry::global().counter("rally_llm_simulator_requests_total",
                                                     "Requests answered by the LLM simulator",
                                                     {"endpoint", "status"})),
        outcomes(metrics::Registry::global().counter(
            "rally_llm_simulator_exchanges_total",
            "API exchanges by outcome (completed, client_closed, timed_out, fault:<kind>)", {"outcome"})),
        completion_tokens(metrics::Registry::global().counter(
            "rally_llm_simulator_completion_tokens_total", "Tokens of the replies produced", {"endpoint"})),
        faults_applied(metrics::Registry::global().counter(
            "rally_llm_simulator_faults_applied_total", "Programmed faults applied to requests", {"kind"})) {}

  Exchange handle(const HttpRequest& request, Clock::time_point now);
  Exchange route(const HttpRequest& request, std::string_view path, Clock::time_point now,
                 RequestRecord& record);
  Exchange chat_completions(const HttpRequest& request, Clock::time_point now, RequestRecord& record);
  Exchange messages(const HttpRequest& request, RequestRecord& record);
  Exchange models(const HttpRequest& request, std::string_view path);
  Exchange models_dev(const HttpRequest& request, Clock::time_point now);
  Exchange control_faults(const HttpRequest& request);
  Exchange control_requests(const HttpRequest& request);

  Exchange openai_exchange(const openai_wire::ChatRequest& chat, const Reply& reply,
                           const openai_wire::ResponseIdentity& identity, const Timing& timing,
                           const std::optional<Fault>& fault);
  Exchange anthropic_exchange(const anthropic::MessagesRequest& request, const Reply& reply,
                              const anthropic::ResponseIdentity& identity, const Timing& timing,
                              const std::optional<Fault>& fault);

  std::optional<Exchange> check_openai_key(const HttpRequest& request) const;
  bool key_accepted(std::string_view key) const {
    return settings.api_key.empty() || key == settings.api_key;
  }
  bool serves_model(std::string_view model) const;
  std::optional<Fault> take_fault(std::string_view path, std::string_view model);
  std::string random_id(std::string_view prefix, std::size_t length);

  const SimulatorSettings settings;
  RequestLog log;
  FaultPlan faults;
  const std::uint64_t id_salt;  // response ids differ between runs, as real ones do
  std::atomic<std::uint64_t> id_sequence{0};
  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Counter>& outcomes;
  metrics::Family<metrics::Counter>& completion_tokens;
  metrics::Family<metrics::Counter>& faults_applied;
};

Exchange SimulatorEngine::State::handle(const HttpRequest& request, Clock::time_point now) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const bool logged = path.starts_with("/v1/") || path == kModelsDevPath;

  RequestRecord record;
  Exchange exchange = route(request, path, now, record);
  if (logged) {
    record.method = request.method;
    record.path = std::string(path);
    record.headers = request.headers;
    record.body = request.body;
    record.status = exchange.respond ? exchange.status : 0;
    record.fault = exchange.fault;
    record.started_at = now;
    exchange.log_id = log.add(std::move(record));
    exchange.headers.emplace_back("x-sim-request-id", std::to_string(exchange.log_id));
  }
  requests.labels({std::string(endpoint_label(path)), std::to_string(exchange.respond ? exchange.status : 0)})
      .inc();
  return exchange;
}

Exchange SimulatorEngine::State::route(const HttpRequest& request, std::string_view path,
                                       Clock::time_point now, RequestRecord& record) {
  const std::string& method = request.method;
  if (path == "/v1/chat/completions") {
    if (method != "POST") return method_not_allowed(Api::kOpenAi, method, path, "POST");
    return chat_completions(request, now, record);
  }
  if (path == "/v1/messages") {
    if (method != "POST") return method_not_allowed(Api::kAnthropic, method, path, "POST");
    return messages(request, record);
  }
  if (path == "/v1/models" || path.starts_with("/v1/models/")) {
    if (method != "GET") return method_not_allowed(Api::kOpenAi, method, path, "GET");
    return models(request, path);
  }
  if (path == kModelsDevPath) {
    if (method != "GET") {
      Exchange exchange = response(405, kPlainText, "Method Not Allowed\n");
      exchange.headers.emplace_back("allow", "GET");
      return exchange;
    }
    return models_dev(request, now);
  }
  if (path == "/_sim/faults") return control_faults(request);
  if (path == "/_sim/requests") return control_requests(request);
  if (path == "/healthz" && method == "GET") return response(200, "text/plain; charset=utf-8", "ok\n");
  if (path == "/metrics" && method == "GET") {
    return response(200, metrics::kTextFormatContentType, metrics::Registry::global().render());
  }
  return openai_error(404, "Invalid URL (" + method + " " + std::string(path) + ")");
}

std::optional<Exchange> SimulatorEngine::State::check_openai_key(const HttpRequest& request) const {
  const std::string* authorization = request.find_header("authorization");
  std::string_view key;
  if (authorization != nullptr && lower_ascii(authorization->substr(0, 7)) == "bearer ") {
    key = trim(std::string_view(*authorization).substr(7));
  }
  if (key.empty()) return openai_error(401, kOpenAiMissingKeyMessage);
  if (!key_accepted(key)) {
    return openai_error(401,
                        "Incorrect API key provided: " + mask_key(key) +
                            ". You can find your API key at https://platform.openai.com/account/api-keys.",
                        "invalid_request_error", std::nullopt, "invalid_api_key");
  }
  return std::nullopt;
}

bool SimulatorEngine::State::serves_model(std::string_view model) const {
  return settings.models.empty() ||
         std::find(settings.models.begin(), settings.models.end(), model) != settings.models.end();
}

std::optional<Fault> SimulatorEngine::State::take_fault(std::string_view path, std::string_view model) {
  std::optional<Fault> fault = faults.take(path, model);
  if (fault) {
    faults_applied.labels({std::string(fault->kind())}).inc();
    spdlog::info("applying fault {} to a request for {}", fault->kind(), model.empty() ? path : model);
  }
  return fault;
}

std::string SimulatorEngine::State::random_id(std::string_view prefix, std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::uint64_t base = mix64(id_salt ^ mix64(id_sequence.fetch_add(1, std::memory_order_relaxed)));
  std::string id(prefix);
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < length; ++i) {
    // Ten base-62 digits use 60 of a word's 64 bits; then draw a fresh word from the id's base.
    if (i % 10 == 0) word = mix64(base + i);
    id += kAlphabet[word % kAlphabet.size()];
    word /= kAlphabet.size();
  }
  return id;
}

Exchange SimulatorEngine::State::chat_completions(const HttpRequest& request, Clock::time_point now,
                                                  RequestRecord& record) {
  if (auto rejected = check_openai_key(request)) return std::move(*rejected);
  Timing timing{settings.ttft, settings.tokens_per_second};
  if (auto problem = apply_timing_overrides(request, timing)) return openai_error(400, *problem);

  boost::system::error_code ec;
  const json::value body = json::parse(request.body, ec);
  if (ec) return openai_error(400, openai_wire::kInvalidJsonMessage);
  note_model_and_stream(body, record);
  auto chat = openai_wire::parse_chat_request(body, "The LLM simulator");
  if (!chat) return response(400, kJson, openai_wire::invalid_request_body(chat.error()));
  const std::string& model = chat->model;
  if (!serves_model(model)) return response(404, kJson, openai_wire::model_not_found_body(model));

  const std::optional<Fault> fault = take_fault("/v1/chat/completions", model);
  const Reply reply = generate_reply(completion_request_of(chat.value()), settings.rules);
  completion_tokens.labels({"chat_completions"}).inc(reply.completion_tokens);
  std::array<char, 17> fingerprint{};
  std::snprintf(fingerprint.data(), fingerprint.size(), "%016llx",
                static_cast<unsigned long long>(stable_hash(model)));
  const openai_wire::ResponseIdentity identity{
      random_id("chatcmpl-", 29),
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(), model,
      "fp_" + std::string(fingerprint.data(), 10)};
  return openai_exchange(chat.value(), reply, identity, timing, fault);
}

Exchange SimulatorEngine::State::openai_exchange(const openai_wire::ChatRequest& chat, const Reply& reply,
                                                 const openai_wire::ResponseIdentity& identity,
                                                 const Timing& timing, const std::optional<Fault>& fault) {
  Exchange exchange;
  if (fault && fault->status) {
    exchange = response(*fault->status, kJson, openai_wire::error_body_for_status(*fault->status));
  }
  exchange.headers.emplace_back("x-request-id", common::new_request_id());
  if (fault) {
    apply_fault_basics(*fault, exchange);
    if (fault->status) return exchange;
  }

  if (!chat.stream) {
    exchange.due = timing.reply_ready(reply.completion_tokens);
    exchange.headers.emplace_back("content-type", kJson);
    if (fault && fault->drop_after_chunks) {
      exchange.respond = false;
    } else if (fault && fault->error_event_after_chunks) {
      exchange.status = 500;
      exchange.body = openai_wire::error_body_for_status(500);
    } else {
      exchange.body = openai_wire::completion_body(identity, reply.text, openai_finish_reason(reply.finish),
                                                   openai_usage(reply));
      // A body cut in half: valid HTTP, invalid JSON.
      if (fault && fault->malformed_event_after_chunks) exchange.body.resize(exchange.body.size() / 2);
    }
    return exchange;
  }

  exchange.streaming = true;
  exchange.headers.emplace_back("content-type", kEventStream);
  exchange.headers.emplace_back("cache-control", "no-cache");
  const bool usage = chat.include_usage;
  exchange.events.push_back({openai_wire::role_event(identity, usage), microseconds(0), false});
  const std::optional<std::uint32_t> cut = chunks_before_fault(fault);
  std::uint64_t tokens = 0;
  for (std::size_t i = 0; i < reply.deltas.size() && !(cut && i == *cut); ++i) {
    tokens += reply.deltas[i].tokens;
    exchange.events.push_back({openai_wire::content_event(identity, reply.deltas[i].text, usage),
                               timing.token_ready(tokens - 1), true});
  }
  if (fault && fault->drop_after_chunks) {
    exchange.drop_after_events = true;
    return exchange;
  }
  if (fault && fault->malformed_event_after_chunks) {
    exchange.events.push_back({openai_wire::malformed_event(identity), timing.token_ready(tokens), false});
    return exchange;
  }
  if (fault && fault->error_event_after_chunks) {
    exchange.events.push_back({openai_wire::error_event("server_error", openai_wire::kServerErrorMessage),
                               timing.token_ready(tokens), false});
    return exchange;
  }
  const microseconds end = timing.reply_ready(tokens);
  exchange.events.push_back(
      {openai_wire::finish_event(identity, openai_finish_reason(reply.finish), usage), end, false});
  if (usage) exchange.events.push_back({openai_wire::usage_event(identity, openai_usage(reply)), end, false});
  exchange.events.push_back({openai_wire::done_event(), end, false});
  return exchange;
}

Exchange SimulatorEngine::State::messages(const HttpRequest& request, RequestRecord& record) {
  const std::string* key = request.find_header("x-api-key");
  if (key == nullptr || trim(*key).empty()) return anthropic_error(401, "x-api-key header is required");
  if (!key_accepted(trim(*key))) return anthropic_error(401, "invalid x-api-key");
  const std::string* version = request.find_header("anthropic-version");
  if (version == nullptr || trim(*version).empty()) {
    return anthropic_error(400, "anthropic-version: header is required");
  }
  Timing timing{settings.ttft, settings.tokens_per_second};
  if (auto problem = apply_timing_overrides(request, timing)) return anthropic_error(400, *problem);

  boost::system::error_code ec;
  const json::value body = json::parse(request.body, ec);
  if (ec) return anthropic_error(400, "There was an error parsing the body of your request: " + ec.message());
  note_model_and_stream(body, record);
  auto parsed = anthropic::parse_messages_request(body);
  if (!parsed) return anthropic_error(400, parsed.error().message);
  const std::string& model = parsed->completion.model;
  if (!serves_model(model)) return anthropic_error(404, "model: " + model);

  const std::optional<Fault> fault = take_fault("/v1/messages", model);
  const Reply reply = generate_reply(parsed->completion, settings.rules);
  completion_tokens.labels({"messages"}).inc(reply.completion_tokens);
  const anthropic::ResponseIdentity identity{random_id("msg_01", 22), model};
  return anthropic_exchange(parsed.value(), reply, identity, timing, fault);
}

Exchange SimulatorEngine::State::anthropic_exchange(const anthropic::MessagesRequest& request,
                                                    const Reply& reply,
                                                    const anthropic::ResponseIdentity& identity,
                                                    const Timing& timing, const std::optional<Fault>& fault) {
  Exchange exchange;
  if (fault && fault->status) {
    exchange = response(*fault->status, kJson, anthropic::error_body_for_status(*fault->status));
  }
  exchange.headers.emplace_back("request-id", random_id("req_01", 22));
  if (fault) {
    apply_fault_basics(*fault, exchange);
    if (fault->status) return exchange;
  }

  if (!request.stream) {
    exchange.due = timing.reply_ready(reply.completion_tokens);
    exchange.headers.emplace_back("content-type", kJson);
    if (fault && fault->drop_after_chunks) {
      exchange.respond = false;
    } else if (fault && fault->error_event_after_chunks) {
      exchange.status = 529;
      exchange.body = anthropic::error_body_for_status(529);
    } else {
      exchange.body = anthropic::message_body(identity, reply);
      if (fault && fault->malformed_event_after_chunks) exchange.body.resize(exchange.body.size() / 2);
    }
    return exchange;
  }

  exchange.streaming = true;
  exchange.headers.emplace_back("content-type", kEventStream);
  exchange.headers.emplace_back("cache-control", "no-cache");
  exchange.events.push_back(
      {anthropic::message_start_event(identity, reply.prompt_tokens), microseconds(0), false});
  exchange.events.push_back({anthropic::content_block_start_event(), microseconds(0), false});
  exchange.events.push_back({anthropic::ping_event(), microseconds(0), false});
  const std::optional<std::uint32_t> cut = chunks_before_fault(fault);
  std::uint64_t tokens = 0;
  for (std::size_t i = 0; i < reply.deltas.size() && !(cut && i == *cut); ++i) {
    tokens += reply.deltas[i].tokens;
    exchange.events.push_back(
        {anthropic::text_delta_event(reply.deltas[i].text), timing.token_ready(tokens - 1), true});
  }
  if (fault && fault->drop_after_chunks) {
    exchange.drop_after_events = true;
    return exchange;
  }
  if (fault && fault->malformed_event_after_chunks) {
    exchange.events.push_back({anthropic::malformed_event(), timing.token_ready(tokens), false});
    return exchange;
  }
  if (fault && fault->error_event_after_chunks) {
    exchange.events.push_back(
        {anthropic::error_event("overloaded_error", "Overloaded"), timing.token_ready(tokens), false});
    return exchange;
  }
  const microseconds end = timing.reply_ready(tokens);
  exchange.events.push_back({anthropic::content_block_stop_event(), end, false});
  exchange.events.push_back({anthropic::message_delta_event(reply), end, false});
  exchange.events.push_back({anthropic::message_stop_event(), end, false});
  return exchange;
}

Exchange SimulatorEngine::State::models(const HttpRequest& request, std::string_view path) {
  // Either provider's credentials will do: both SDKs list models with their usual headers.
  const std::string* x_api_key = request.find_header("x-api-key");
  if (x_api_key != nullptr && !trim(*x_api_key).empty()) {
    if (!key_accepted(trim(*x_api_key))) return anthropic_error(401, "invalid x-api-key");
  } else if (auto rejected = check_openai_key(request)) {
    return std::move(*rejected);
  }

  if (path == "/v1/models") {
    std::vector<openai_wire::ModelEntry> entries;
    if (settings.models.empty()) {
      for (const std::string_view id : kBuiltInModels) {
        entries.push_back({std::string(id), kModelCreated, std::string(kModelOwner)});
      }
    } else {
      for (const std::string& id : settings.models)
        entries.push_back({id, kModelCreated, std::string(kModelOwner)});
    }
    return response(200, kJson, openai_wire::models_body(entries));
  }
  const std::string id(path.substr(std::string_view("/v1/models/").size()));
  if (id.empty() || !serves_model(id)) {
    return openai_error(404, "The model '" + id + "' does not exist", "invalid_request_error", "model",
                        "model_not_found");
  }
  return response(200, kJson, openai_wire::model_body({id, kModelCreated, std::string(kModelOwner)}));
}

Exchange SimulatorEngine::State::models_dev(const HttpRequest& request, Clock::time_point now) {
  if (settings.models_dev_file.empty()) {
    return response(404, kPlainText, "models.dev is not served: set RALLY_SIMULATOR_MODELS_DEV_FILE\n");
  }
  const std::optional<Fault> fault = take_fault(kModelsDevPath, "");
  Exchange exchange;
  if (fault) {
    if (fault->status) exchange = response(*fault->status, kPlainText, "Simulated failure\n");
    apply_fault_basics(*fault, exchange);
    if (fault->status) return exchange;
    if (fault->drop_after_chunks) {
      exchange.respond = false;
      return exchange;
    }
    if (fault->error_event_after_chunks) {
      exchange.status = 500;
      exchange.headers.emplace_back("content-type", kPlainText);
      exchange.body = "Simulated failure\n";
      return exchange;
    }
  }

  auto document = load_models_dev_document(settings.models_dev_file, now);
  if (!document) {
    spdlog::error("llm-simulator: {}", document.error().message);
    exchange.status = 500;
    exchange.headers.emplace_back("content-type", kPlainText);
    exchange.body = document.error().message + "\n";
    return exchange;
  }
  // A 304 carries the validators a 200 would have (RFC 9110 15.4.5).
  exchange.headers.emplace_back("etag", document->etag);
  exchange.headers.emplace_back("last-modified", format_http_date(document->last_modified));
  // A malformed-body fault answers 200 whatever the conditions, or there would be no body to cut.
  const bool cut_body = fault && fault->malformed_event_after_chunks;
  if (!cut_body && is_not_modified(document.value(), joined_header(request, "if-none-match"),
                                   joined_header(request, "if-modified-since"), now)) {
    exchange.status = 304;
    return exchange;
  }
  exchange.headers.emplace_back("content-type", kJson);
  exchange.body = std::move(document->bytes);
  if (cut_body) exchange.body.resize(exchange.body.size() / 2);
  return exchange;
}

Exchange SimulatorEngine::State::control_faults(const HttpRequest& request) {
  if (request.method == "POST") {
    auto armed = parse_fault_request(request.body);
    if (!armed) return openai_error(400, armed.error().message);
    const ArmedFault fault = faults.arm(std::move(armed.value()));
    const std::string target = (fault.path.empty() ? "" : fault.path + ", ") + "model " + fault.model;
    spdlog::info("fault {} armed: {} for {} request(s) to {}", fault.id, fault.fault.kind(), fault.remaining,
                 target);
    return response(201, kJson, to_json(fault));
  }
  if (request.method == "GET") return response(200, kJson, to_json(faults.armed()));
  if (request.method == "DELETE") {
    const std::size_t removed = faults.clear();
    spdlog::info("faults cleared ({} removed)", removed);
    return response(200, kJson, json::serialize(json::object{{"deleted", removed}}));
  }
  return method_not_allowed(Api::kOpenAi, request.method, "/_sim/faults", "GET, POST, DELETE");
}

Exchange SimulatorEngine::State::control_requests(const HttpRequest& request) {
  if (request.method == "GET") return response(200, kJson, log.to_json());
  if (request.method == "DELETE") {
    return response(200, kJson, json::serialize(json::object{{"deleted", log.clear()}}));
  }
  return method_not_allowed(Api::kOpenAi, request.method, "/_sim/requests", "GET, DELETE");
}

SimulatorEngine::SimulatorEngine(const SimulatorSettings& settings)
    : state_(std::make_unique<State>(settings)) {}

SimulatorEngine::~SimulatorEngine() = default;

Exchange SimulatorEngine::handle(const HttpRequest& request, Clock::time_point now) {
  return state_->handle(request, now);
}

Exchange SimulatorEngine::reject(std::string_view target, int status) const {
  const std::string_view path = target.substr(0, target.find('?'));
  const Api api = path == "/v1/messages" ? Api::kAnthropic : Api::kOpenAi;
  std::string_view message = "The request is not valid HTTP/1.1.";
  if (status == 413) {
    message = api == Api::kAnthropic ? "Request exceeds the maximum allowed number of bytes."
                                     : "Request body too large.";
  } else if (status == 431) {
    message = "Request header fields too large.";
  }
  Exchange exchange = api_error(api, status, message);
  exchange.close_connection = true;
  state_->requests.labels({std::string(endpoint_label(path)), std::to_string(status)}).inc();
  return exchange;
}

void SimulatorEngine::on_chunk_sent(std::uint64_t log_id) {
  if (log_id != 0) state_->log.count_chunk(log_id);
}

void SimulatorEngine::on_finished(std::uint64_t log_id, std::string_view outcome, Clock::time_point now) {
  if (log_id == 0) return;
  state_->log.finish(log_id, outcome, now);
  state_->outcomes.labels({std::string(outcome)}).inc();
}

RequestLog& SimulatorEngine::request_log() {
  return state_->log;
}

FaultPlan& SimulatorEngine::faults() {
  return state_->faults;
}

const SimulatorSettings& SimulatorEngine::settings() const {
  return state_->settings;
}

}  // namespace rally::llm_simulator
