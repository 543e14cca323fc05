// rally-scoring-bench: the scoring API through the gateway (docs/benchmarks.md, "Scoring"). In one run:
//
//   latency      one connection, one request at a time: a forced calculation (stored in PostgreSQL and
//                published), the seed's load-test request to the same route (not forced: the stored score
//                answers while valid), and GET /healthz (the gateway's
//                own round trip, the reference);
//   throughput   the same three with many connections for a fixed time;
//   batch        synchronous batches of N models (POST /api/v1/models/scores/batch, forced), against the
//                forced single calculations per second of the same run;
//   delivery     WebSocket /api/v1/ws/scoring: 1 and then N subscribers watching "*", one forced
//                calculation at a time through REST, the time from sending it until each subscriber has
//                the update, against a plain Redis subscriber of the channel the scoring service publishes
//                on (the floor: the delivery before the gateway's fan-out).
//
// Prints a Markdown report: each figure against the seed's claim times ten (the issue's target) and as a
// ratio or difference against its same-run reference. One io_context on one thread drives every connection.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_tcp.h"

namespace rally::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kScoreUpdatesChannel = "rally:scoring:updates";
constexpr std::string_view kWebSocketPath = "/api/v1/ws/scoring";

// The seed's claims (shared/seeds/scoring-api-reference.md, "Performance Metrics"); the issue's targets
// are ten times better.
constexpr double kSeedMeanLatencyMs = 150;
constexpr double kSeedCalculationsPerSecond = 1000;
constexpr double kSeedBatchModelsPerSecond = 100;
constexpr double kTargetFactor = 10;

// ---- Pure parts
// ----------------------------------------------------------------------------------------------

// A path segment: everything but RFC 3986's unreserved characters percent-encoded ("a/b" -> "a%2Fb").
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

// The "provider/model" keys of a models.dev document ({providerId: {models: {modelId: {...}}}}, keys
// beginning with '_' are metadata), sorted bytewise.
std::vector<std::string> models_dev_keys(std::string_view document) {
  const json::value parsed = json::parse(document);
  std::vector<std::string> keys;
  for (const auto& [provider, entry] : parsed.as_object()) {
    if (provider.starts_with("_") || !entry.is_object()) continue;
    const json::value* models = entry.as_object().if_contains("models");
    if (models == nullptr || !models->is_object()) continue;
    for (const auto& model : models->as_object()) {
      keys.push_back(std::string(provider) + "/" + std::string(model.key()));
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// What the bench reads from a message of the scoring WebSocket: its "type" and, for a score update, the
// model id in "data" ("" for other messages). nullopt for a message that is not a JSON object with a type.
struct ServerMessage {
  std::string type;
  std::string model_id;
};

std::optional<ServerMessage> parse_server_message(std::string_view text) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::value* type = parsed.as_object().if_contains("type");
  if (type == nullptr || !type->is_string()) return std::nullopt;
  ServerMessage message{std::string(type->as_string()), ""};
  if (const json::value* data = parsed.as_object().if_contains("data");
      data != nullptr && data->is_object()) {
    if (const json::value* id = data->as_object().if_contains("model_id"); id != nullptr && id->is_string()) {
      message.model_id = std::string(id->as_string());
    }
  }
  return message;
}

// The length of the RESP value at the start of `in`, 0 while it is incomplete. Only what a Redis SUBSCRIBE
// connection receives: arrays, bulk strings, integers and simple strings or errors.
std::size_t resp_value_length(std::string_view in) {
  const std::size_t line_end = in.find("\r\n");
  if (in.empty() || line_end == std::string_view::npos) return 0;
  std::size_t used = line_end + 2;
  if (in[0] == '+' || in[0] == '-' || in[0] == ':') return used;
  long long count = 0;
  const auto [end, error] = std::from_chars(in.data() + 1, in.data() + line_end, count);
  if (error != std::errc() || end != in.data() + line_end) throw std::runtime_error("bad RESP length");
  if (in[0] == '$') {
    if (count < 0) return used;
    const auto size = static_cast<std::size_t>(count);
    return in.size() < used + size + 2 ? 0 : used + size + 2;
  }
  if (in[0] != '*') throw std::runtime_error("unexpected RESP type " + std::string(1, in[0]));
  for (long long i = 0; i < count; ++i) {
    const std::size_t length = resp_value_length(in.substr(used));
    if (length == 0) return 0;
    used += length;
  }
  return used;
}

// The first bulk string of a complete RESP array: "message" or "subscribe" on a SUBSCRIBE connection.
std::string_view resp_kind(std::string_view value) {
  const std::size_t header = value.find("\r\n");
  if (!value.starts_with("*") || header == std::string_view::npos || value.size() < header + 3 ||
      value[header + 2] != '$') {
    return {};
  }
  const std::size_t length_end = value.find("\r\n", header + 2);
  std::size_t length = 0;
  std::from_chars(value.data() + header + 3, value.data() + length_end, length);
  return value.substr(length_end + 2, length);
}

// ---- Options
// -----------------------------------------------------------------------------------------------

struct Options {
  tcp::endpoint gateway;
  std::optional<tcp::endpoint> redis;
  std::string token;
  std::string models_dev = "deploy/data/models-dev-snapshot.json";
  int models = 1000;
  int latency_requests = 500;
  int connections = 32;
  std::chrono::seconds duration{10};
  int batches = 3;
  int subscribers = 1000;
  int updates = 20;
  int connect_parallel = 64;
  std::chrono::seconds timeout{120};
  std::chrono::seconds update_timeout{10};
  std::chrono::seconds wait_ready{60};
  std::string output;
  std::string note;
  std::vector<WatchedProcess> watched;
};

constexpr std::string_view kUsage =
    R"(Usage: rally-scoring-bench --gateway=HOST:PORT --token-file=FILE [options]

Measures the scoring API through the gateway and prints a Markdown report (docs/benchmarks.md, "Scoring").

  --gateway=HOST:PORT     the gateway
  --token-file=FILE       an API token with read and write scope (the first line of FILE)
  --redis=HOST:PORT       the Redis the scoring service publishes on: a subscriber of its channel in the
                          bench is the delivery reference (default: none, the reference is left out)
  --models-dev=FILE       the models.dev document the scoring service loaded; its first N keys (bytewise)
                          are the bench's models (default deploy/data/models-dev-snapshot.json)
  --models=N              models per batch, and the models the single calculations go round (default 1000)
  --latency-requests=N    requests per kind in the latency phase, one at a time (default 500)
  --connections=N         connections of the throughput phase (default 32)
  --duration=SECONDS      length of each throughput run (default 10)
  --batches=N             synchronous batches of N models, one after another (default 3)
  --subscribers=N         WebSocket subscribers of the delivery phase (default 1000; a run with 1 first)
  --updates=N             score updates sent to them, one at a time (default 20)
  --connect-parallel=N    WebSocket handshakes in flight while connecting (default 64)
  --timeout=SECONDS       deadline of one request (default 120)
  --update-timeout=SECONDS
                          how long an update may take to reach every subscriber (default 10)
  --wait-ready=SECONDS    wait this long for a calculation to answer 200 (default 60)
  --watch=NAME=PID        report the CPU time of this process per phase (repeatable)
  --watch-tree=NAME=PID   the same, with its live children (PostgreSQL's backends)
  --note=TEXT             a line added to the report
  --output=FILE           also write the report to FILE
)";

Options parse_options(int argc, char** argv) {
  Options options;
  bool have_gateway = false;
  for (int i = 1; i < argc; ++i) {
    const auto [key, value] = split_option(argv[i], kUsage);
    if (key == "--gateway") {
      options.gateway = parse_endpoint(value, key);
      have_gateway = true;
    } else if (key == "--redis") {
      options.redis = parse_endpoint(value, key);
    } else if (key == "--token-file") {
      std::istringstream file(read_file(value));
      std::getline(file, options.token);
      if (!options.token.starts_with("rally_")) throw std::invalid_argument(key + ": no token in " + value);
    } else if (key == "--models-dev") {
      options.models_dev = value;
    } else if (key == "--models") {
      options.models = parse_int(value, key, 1, 5000);
    } else if (key == "--latency-requests") {
      options.latency_requests = parse_int(value, key, 1, 1000000);
    } else if (key == "--connections") {
      options.connections = parse_int(value, key, 1, 10000);
    } else if (key == "--duration") {
      options.duration = std::chrono::seconds(parse_int(value, key, 1, 3600));
    } else if (key == "--batches") {
      options.batches = parse_int(value, key, 1, 1000);
    } else if (key == "--subscribers") {
      options.subscribers = parse_int(value, key, 1, 100000);
    } else if (key == "--updates") {
      options.updates = parse_int(value, key, 1, 100000);
    } else if (key == "--connect-parallel") {
      options.connect_parallel = parse_int(value, key, 1, 10000);
    } else if (key == "--timeout") {
      options.timeout = std::chrono::seconds(parse_int(value, key, 1, 3600));
    } else if (key == "--update-timeout") {
      options.update_timeout = std::chrono::seconds(parse_int(value, key, 1, 3600));
    } else if (key == "--wait-ready") {
      options.wait_ready = std::chrono::seconds(parse_int(value, key, 0, 3600));
    } else if (key == "--watch" || key == "--watch-tree") {
      options.watched.push_back(parse_watched(value, key, key == "--watch-tree"));
    } else if (key == "--note") {
      options.note = value;
    } else if (key == "--output") {
      options.output = value;
    } else {
      throw std::invalid_argument("unknown option " + key);
    }
  }
  if (!have_gateway) throw std::invalid_argument("--gateway is required");
  if (options.token.empty()) throw std::invalid_argument("--token-file is required");
  return options;
}

// ---- CPU time from /proc
// -----------------------------------------------------------------------------------

// Clock ticks a process used, with those of its children that have exited (and, for a tree, those of its
// live children).
long long process_ticks(const WatchedProcess& watched) {
  const std::vector<long long> own = process_stat_fields(std::to_string(watched.pid));
  if (own.size() < 15) return 0;
  long long ticks = own[11] + own[12] + own[13] + own[14];
  if (!watched.tree) return ticks;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    const std::vector<long long> child = process_stat_fields(name);
    if (child.size() >= 15 && child[1] == watched.pid) ticks += child[11] + child[12] + child[13] + child[14];
  }
  return ticks;
}

long long machine_ticks() {
  std::istringstream in(read_file("/proc/stat"));
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return user + nice + system + irq + softirq + steal;
}

// CPU seconds of the watched processes, the bench and the whole machine at one moment; the difference of
// two is what each used in between, "other" being the rest of the machine.
struct CpuSnapshot {
  std::map<std::string, double> seconds;

  static CpuSnapshot take(const std::vector<WatchedProcess>& watched) {
    const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
    CpuSnapshot snapshot;
    for (const WatchedProcess& process : watched) {
      snapshot.seconds[process.name] = static_cast<double>(process_ticks(process)) / hz;
    }
    snapshot.seconds["bench"] = own_cpu_seconds();
    snapshot.seconds["machine"] = static_cast<double>(machine_ticks()) / hz;
    return snapshot;
  }

  std::map<std::string, double> used_since(const CpuSnapshot& before) const {
    std::map<std::string, double> used;
    double measured = 0;
    for (const auto& [name, value] : seconds) {
      const auto start = before.seconds.find(name);
      used[name] = value - (start == before.seconds.end() ? 0 : start->second);
      if (name != "machine") measured += used[name];
    }
    used["other"] = std::max(0.0, used["machine"] - measured);
    return used;
  }
};

// ---- HTTP: one keep-alive connection, one request at a time
// -----------------------------------------------------------

struct Request {
  http::verb verb = http::verb::get;
  std::string target;
  std::string body;  // JSON; empty: none
};

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
  std::string error;  // transport error
  double ms = 0;      // from just before the write to the end of the response
};

class HttpClient : public std::enable_shared_from_this<HttpClient> {
 public:
  using Done = std::function<void(Reply)>;

  HttpClient(asio::io_context& io, const Options& options) : options_(options), stream_(io) {}

  void send(const Request& request, Done done) {
    request_ = http::request<http::string_body>(request.verb, request.target, 11);
    request_.set(http::field::host, options_.gateway.address().to_string());
    request_.set(http::field::authorization, "Bearer " + options_.token);
    if (!request.body.empty()) request_.set(http::field::content_type, "application/json");
    request_.body() = request.body;
    request_.keep_alive(true);
    request_.prepare_payload();
    done_ = std::move(done);
    started_ = Clock::now();
    stream_.expires_after(options_.timeout);
    if (connected_) return write();
    stream_.async_connect(options_.gateway, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->finish({0, "", "connect: " + ec.message(), 0});
      set_no_delay(self->stream_.socket());
      self->connected_ = true;
      self->write();
    });
  }

  void close() {
    shut_down(stream_);
    connected_ = false;
  }

 private:
  void write() {
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->finish({0, "", "write: " + ec.message(), 0});
      self->parser_.emplace();
      self->parser_->body_limit(64 << 20);
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code read_ec, std::size_t) { self->on_read(read_ec); });
    });
  }

  void on_read(beast::error_code ec) {
    if (ec) return finish({0, "", "read: " + ec.message(), 0});
    Reply reply{static_cast<int>(parser_->get().result_int()), std::move(parser_->get().body()), "", 0};
    if (!parser_->keep_alive()) close();
    finish(std::move(reply));
  }

  void finish(Reply reply) {
    reply.ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    if (!reply.error.empty()) {
      close();
      buffer_.clear();
    }
    Done done = std::move(done_);
    done(std::move(reply));
  }

  const Options& options_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Done done_;
  Clock::time_point started_;
  bool connected_ = false;
};

// ---- Closed-loop load: C connections, each sending its next request when the last one answered
// -----------

struct Load {
  std::function<Request(int index)> request;
  // Refuses a 200 whose body is not what it should be (nullopt: fine).
  std::function<std::optional<std::string>(const Reply&)> check;
  int connections = 1;
  int count = 0;  // requests; 0: as many as fit in `duration`
  std::chrono::milliseconds duration{0};
};

struct LoadResult {
  std::vector<double> ms;  // the successful requests' times
  std::map<std::string, int> errors;
  std::string first_error;
  double seconds = 0;
  std::map<std::string, double> cpu;

  int ok() const { return static_cast<int>(ms.size()); }
  int error_count() const { return total_count(errors); }
  double per_second() const { return seconds > 0 ? ok() / seconds : 0; }
};

class LoadRun {
 public:
  LoadRun(asio::io_context& io, const Options& options, const Load& load)
      : io_(io), options_(options), load_(load) {}

  LoadResult run() {
    const CpuSnapshot before = CpuSnapshot::take(options_.watched);
    started_ = Clock::now();
    deadline_ = started_ + load_.duration;
    for (int i = 0; i < load_.connections; ++i) next(std::make_shared<HttpClient>(io_, options_));
    io_.restart();
    io_.run();
    result_.seconds = std::chrono::duration<double>(last_done_ - started_).count();
    result_.cpu = CpuSnapshot::take(options_.watched).used_since(before);
    return std::move(result_);
  }

 private:
  void next(const std::shared_ptr<HttpClient>& client) {
    const bool more = load_.count > 0 ? issued_ < load_.count : Clock::now() < deadline_;
    if (!more) {
      client->close();
      return;
    }
    client->send(load_.request(issued_++), [this, client](Reply reply) {
      last_done_ = Clock::now();
      std::string error;
      if (!reply.error.empty()) {
        error = reply.error;
      } else if (reply.status != 200) {
        error = "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300);
      } else if (load_.check) {
        error = load_.check(reply).value_or("");
      }
      if (error.empty()) {
        result_.ms.push_back(reply.ms);
      } else {
        const std::string kind = error.substr(0, error.find(':'));
        ++result_.errors[kind];
        if (result_.first_error.empty()) result_.first_error = error;
      }
      next(client);
    });
  }

  asio::io_context& io_;
  const Options& options_;
  const Load& load_;
  int issued_ = 0;
  Clock::time_point started_;
  Clock::time_point deadline_;
  Clock::time_point last_done_;
  LoadResult result_;
};

LoadResult run_load(asio::io_context& io, const Options& options, const Load& load) {
  return LoadRun(io, options, load).run();
}

// ---- Delivery: WebSocket subscribers, a Redis subscriber, one update at a time
// ------------------------------------

class DeliveryRun;

// One WebSocket client watching "*": connects, subscribes, then reads until closed, handing each message to
// the run with the time it was read (parsed later, so reading 1000 of them stays cheap).
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(asio::io_context& io, DeliveryRun& run, int index) : run_(run), index_(index), ws_(io) {}
  void start();
  void close();

 private:
  void on_connect(beast::error_code ec);
  void on_handshake(beast::error_code ec);
  void fail(const std::string& what, beast::error_code ec);
  void read();

  DeliveryRun& run_;
  const int index_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::string subscribe_;
  bool subscribed_ = false;
  bool closing_ = false;
};

// A plain Redis subscriber of the channel the scoring service publishes on.
class RedisProbe : public std::enable_shared_from_this<RedisProbe> {
 public:
  RedisProbe(asio::io_context& io, DeliveryRun& run) : run_(run), socket_(io) {}
  void start(const tcp::endpoint& endpoint);
  void close() {
    closing_ = true;
    beast::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read();

  DeliveryRun& run_;
  tcp::socket socket_;
  std::string command_;
  std::string pending_;
  std::array<char, 65536> chunk_{};
  bool closing_ = false;
};

struct Delivery {
  int update = 0;
  int subscriber = 0;
  double ms = 0;  // from sending the REST request
  std::string text;
};

struct DeliveryResult {
  int subscribers = 0;  // asked for
  int connected = 0;    // subscribed before the first update
  double connect_seconds = 0;
  std::vector<Delivery> deliveries;
  std::vector<double> rest_ms;   // the triggering request's round trip, per update
  std::vector<double> redis_ms;  // the plain Redis subscriber, per update
  std::vector<int> missing;      // subscribers without the update when the next one was sent, per update
  std::map<std::string, int> errors;
  std::string first_error;
  double seconds = 0;  // the updates, from the first request to the last delivery
  std::map<std::string, double> cpu;

  void error(const std::string& kind, const std::string& detail) {
    ++errors[kind];
    if (first_error.empty()) first_error = kind + (detail.empty() ? "" : ": " + detail);
  }
  int error_count() const { return total_count(errors); }
  std::vector<double> delivery_ms() const {
    std::vector<double> values;
    values.reserve(deliveries.size());
    for (const Delivery& delivery : deliveries) values.push_back(delivery.ms);
    return values;
  }
  // Per update, the time until its last subscriber had it.
  std::vector<double> last_ms() const {
    std::map<int, double> last;
    for (const Delivery& delivery : deliveries)
      last[delivery.update] = std::max(last[delivery.update], delivery.ms);
    std::vector<double> values;
    for (const auto& [update, ms] : last) values.push_back(ms);
    return values;
  }
};

class DeliveryRun {
 public:
  DeliveryRun(asio::io_context& io, const Options& options, const std::vector<std::string>& models,
              int subscribers)
      : io_(io), options_(options), models_(models), timer_(io) {
    result_.subscribers = subscribers;
  }

  DeliveryResult run() {
    connect_started_ = Clock::now();
    if (options_.redis) {
      redis_ = std::make_shared<RedisProbe>(io_, *this);
      redis_->start(*options_.redis);
    } else {
      redis_ready_ = true;
    }
    for (int i = 0; i < result_.subscribers; ++i) {
      subscribers_.push_back(std::make_shared<Subscriber>(io_, *this, i));
    }
    const int first = std::min(options_.connect_parallel, result_.subscribers);
    for (int i = 0; i < first; ++i) subscribers_[static_cast<std::size_t>(next_to_connect_++)]->start();
    io_.restart();
    io_.run();
    subscribers_.clear();
    redis_.reset();
    check_deliveries();
    return std::move(result_);
  }

  const Options& options() const { return options_; }

  // A subscriber got its "subscribed" answer, or could not connect or subscribe.
  void on_subscribed(bool ok, const std::string& error) {
    if (ok) {
      ++result_.connected;
    } else {
      result_.error("subscribe", error);
    }
    if (next_to_connect_ < result_.subscribers) {
      subscribers_[static_cast<std::size_t>(next_to_connect_++)]->start();
    }
    if (++subscribe_answers_ == result_.subscribers) maybe_start();
  }

  void on_redis_ready() {
    redis_ready_ = true;
    maybe_start();
  }

  void on_message(int subscriber, Clock::time_point at, std::string text) {
    if (!in_update_) {
      result_.error("unexpected message", text.substr(0, 200));
      return;
    }
    result_.deliveries.push_back({update_, subscriber,
                                  std::chrono::duration<double, std::milli>(at - sent_).count(),
                                  std::move(text)});
    ++received_;
    maybe_end_update();
  }

  void on_redis_message(Clock::time_point at) {
    if (!in_update_ || redis_seen_) {
      result_.error("unexpected Redis message", "");
      return;
    }
    redis_seen_ = true;
    result_.redis_ms.push_back(std::chrono::duration<double, std::milli>(at - sent_).count());
    maybe_end_update();
  }

  void on_subscriber_error(const std::string& kind, const std::string& detail) {
    if (!finished_) result_.error(kind, detail);
  }
  // The reference is then left out of this run; the deliveries are still measured.
  void on_redis_error(const std::string& detail) {
    if (finished_) return;
    result_.error("redis", detail);
    redis_failed_ = true;
    redis_seen_ = true;
    if (!redis_ready_) on_redis_ready();
  }

 private:
  void maybe_start() {
    if (started_ || !redis_ready_ || subscribe_answers_ < result_.subscribers) return;
    started_ = true;
    result_.connect_seconds = std::chrono::duration<double>(Clock::now() - connect_started_).count();
    trigger_ = std::make_shared<HttpClient>(io_, options_);
    // A moment for the gateway to settle after the handshakes.
    timer_.expires_after(std::chrono::milliseconds(500));
    timer_.async_wait([this](beast::error_code ec) {
      if (ec) return;
      cpu_before_ = CpuSnapshot::take(options_.watched);
      updates_started_ = Clock::now();
      send_update();
    });
  }

  void send_update() {
    if (update_ == options_.updates || result_.connected == 0) return finish();
    const std::string& model = models_[static_cast<std::size_t>(update_) % models_.size()];
    received_ = 0;
    answered_ = false;
    redis_seen_ = !redis_ || redis_failed_;
    in_update_ = true;
    sent_ = Clock::now();
    trigger_->send({http::verb::post, "/api/v1/models/" + percent_encode(model) + "/score/calculate",
                    R"({"force_recalculation":true})"},
                   [this](Reply reply) {
                     if (!reply.error.empty() || reply.status != 200) {
                       result_.error("trigger", reply.error.empty() ? "HTTP " + std::to_string(reply.status) +
                                                                          ": " + reply.body.substr(0, 200)
                                                                    : reply.error);
                     }
                     result_.rest_ms.push_back(reply.ms);
                     answered_ = true;
                     maybe_end_update();
                   });
    timer_.expires_after(options_.update_timeout);
    timer_.async_wait([this, update = update_](beast::error_code ec) {
      if (!ec && in_update_ && update_ == update) end_update();
    });
  }

  void maybe_end_update() {
    if (in_update_ && answered_ && redis_seen_ && received_ >= result_.connected) end_update();
  }

  void end_update() {
    in_update_ = false;
    last_delivery_ = Clock::now();
    result_.missing.push_back(std::max(0, result_.connected - received_));
    if (!redis_seen_) result_.error("redis", "no message for update " + std::to_string(update_ + 1));
    if (received_ < result_.connected) {
      std::cerr << "update " << update_ + 1 << ": " << received_ << " of " << result_.connected
                << " subscribers had it after " << options_.update_timeout.count() << " s\n";
    }
    ++update_;
    // A short pause, so each update starts from a quiet gateway.
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) send_update();
    });
  }

  void finish() {
    finished_ = true;
    if (update_ > 0)
      result_.seconds = std::chrono::duration<double>(last_delivery_ - updates_started_).count();
    result_.cpu = CpuSnapshot::take(options_.watched).used_since(cpu_before_);
    if (trigger_) trigger_->close();
    if (redis_) redis_->close();
    for (const auto& subscriber : subscribers_) subscriber->close();
  }

  // Every delivery must be the score update of the model its update recalculated, once per subscriber.
  void check_deliveries() {
    std::set<std::pair<int, int>> seen;
    for (const Delivery& delivery : result_.deliveries) {
      const std::string& model = models_[static_cast<std::size_t>(delivery.update) % models_.size()];
      const std::optional<ServerMessage> message = parse_server_message(delivery.text);
      if (!message || message->type != "score_update" || message->model_id != model) {
        result_.error("wrong message", delivery.text.substr(0, 200));
      } else if (!seen.emplace(delivery.update, delivery.subscriber).second) {
        result_.error("duplicate", "subscriber " + std::to_string(delivery.subscriber));
      }
    }
    int missing = 0;
    for (const int count : result_.missing) missing += count;
    if (missing > 0) result_.errors["missing"] += missing;
  }

  asio::io_context& io_;
  const Options& options_;
  const std::vector<std::string>& models_;
  asio::steady_timer timer_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
  std::shared_ptr<RedisProbe> redis_;
  std::shared_ptr<HttpClient> trigger_;
  DeliveryResult result_;
  CpuSnapshot cpu_before_;
  Clock::time_point connect_started_;
  Clock::time_point updates_started_;
  Clock::time_point last_delivery_;
  Clock::time_point sent_;
  int next_to_connect_ = 0;
  int subscribe_answers_ = 0;
  int update_ = 0;
  int received_ = 0;
  bool redis_ready_ = false;
  bool started_ = false;
  bool in_update_ = false;
  bool answered_ = false;
  bool redis_seen_ = false;
  bool redis_failed_ = false;
  bool finished_ = false;
};

void Subscriber::start() {
  const Options& options = run_.options();
  websocket::stream_base::timeout timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::client);
  timeouts.handshake_timeout = std::chrono::seconds(30);
  ws_.set_option(timeouts);
  // The browser way of sending the token (gateway/ws/bearer_subprotocol.h).
  ws_.set_option(websocket::stream_base::decorator([token = options.token](websocket::request_type& request) {
    request.set(http::field::sec_websocket_protocol, "bearer, " + token);
  }));
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(30));
  beast::get_lowest_layer(ws_).async_connect(
      options.gateway, [self = shared_from_this()](beast::error_code ec) { self->on_connect(ec); });
}

void Subscriber::on_connect(beast::error_code ec) {
  if (ec) return fail("connect", ec);
  set_no_delay(beast::get_lowest_layer(ws_).socket());
  beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts from here
  const tcp::endpoint& gateway = run_.options().gateway;
  ws_.async_handshake(
      gateway.address().to_string() + ":" + std::to_string(gateway.port()), std::string(kWebSocketPath),
      [self = shared_from_this()](beast::error_code handshake_ec) { self->on_handshake(handshake_ec); });
}

void Subscriber::on_handshake(beast::error_code ec) {
  if (ec) return fail("handshake", ec);
  ws_.text(true);
  subscribe_ = R"({"action":"subscribe","model_ids":["*"]})";
  ws_.async_write(asio::buffer(subscribe_),
                  [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
                    if (write_ec) return self->fail("subscribe", write_ec);
                    self->read();
                  });
}

void Subscriber::read() {
  ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    const Clock::time_point now = Clock::now();
    if (ec) return self->fail("read", ec);
    std::string text = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    if (!self->subscribed_) {
      const std::optional<ServerMessage> message = parse_server_message(text);
      self->subscribed_ = true;  // answered either way: the run counts it once
      if (!message || message->type != "subscribed") {
        self->run_.on_subscribed(false, "answered " + text.substr(0, 200));
        return self->close();
      }
      self->run_.on_subscribed(true, "");
    } else {
      self->run_.on_message(self->index_, now, std::move(text));
    }
    self->read();
  });
}

void Subscriber::fail(const std::string& what, beast::error_code ec) {
  if (closing_ && (ec == websocket::error::closed || ec == asio::error::operation_aborted)) return;
  if (!subscribed_) {
    subscribed_ = true;
    run_.on_subscribed(false, what + ": " + ec.message());
    return;
  }
  run_.on_subscriber_error(what, ec.message());
}

void Subscriber::close() {
  if (closing_) return;
  closing_ = true;
  if (!ws_.is_open()) {
    beast::get_lowest_layer(ws_).close();
    return;
  }
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
    beast::get_lowest_layer(self->ws_).close();
  });
}

void RedisProbe::start(const tcp::endpoint& endpoint) {
  command_ = "*2\r\n$9\r\nSUBSCRIBE\r\n$" + std::to_string(kScoreUpdatesChannel.size()) + "\r\n" +
             std::string(kScoreUpdatesChannel) + "\r\n";
  socket_.async_connect(endpoint, [self = shared_from_this()](beast::error_code ec) {
    if (ec) return self->run_.on_redis_error("connect: " + ec.message());
    asio::async_write(self->socket_, asio::buffer(self->command_),
                      [self](beast::error_code write_ec, std::size_t) {
                        if (write_ec) return self->run_.on_redis_error("write: " + write_ec.message());
                        self->read();
                      });
  });
}

void RedisProbe::read() {
  socket_.async_read_some(
      asio::buffer(chunk_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
        const Clock::time_point now = Clock::now();
        if (ec) {
          if (!self->closing_) self->run_.on_redis_error("read: " + ec.message());
          return;
        }
        self->pending_.append(self->chunk_.data(), n);
        try {
          for (std::size_t length; (length = resp_value_length(self->pending_)) > 0;) {
            const std::string_view kind = resp_kind(std::string_view(self->pending_).substr(0, length));
            if (kind == "subscribe") {
              self->run_.on_redis_ready();
            } else if (kind == "message") {
              self->run_.on_redis_message(now);
            }
            self->pending_.erase(0, length);
          }
        } catch (const std::exception& e) {
          return self->run_.on_redis_error(e.what());
        }
        self->read();
      });
}

DeliveryResult run_delivery(asio::io_context& io, const Options& options,
                            const std::vector<std::string>& models, int subscribers) {
  return DeliveryRun(io, options, models, subscribers).run();
}

// ---- Report
// ------------------------------------------------------------------------------------------------

struct Results {
  LoadResult latency_healthz, latency_stored, latency_force;
  LoadResult rate_healthz, rate_stored, rate_force;
  LoadResult batches;
  DeliveryResult one, many;
  std::string started_at, load_start, load_end;
  double run_seconds = 0;
  std::string first_model, last_model;
};

std::string met(bool ok, bool clean) {
  if (!clean) return "**no** (errors)";
  return ok ? "yes" : "**no**";
}

std::string render_report(const Options& options, const Results& r) {
  std::ostringstream out;
  const auto ms = [](double value) { return fixed(value, 2) + " ms"; };
  const auto rate = [](double value) { return fixed(value, 0); };
  const auto ratio = [](double a, double b) { return b > 0 ? fixed(a / b, 2) : std::string("-"); };

  out << "### Scoring benchmark (bench/run_scoring_bench.sh)\n\n";
  out << "- Date: " << r.started_at << "; the run took " << fixed(r.run_seconds, 0) << " s\n";
  out << "- Machine: " << machine_description() << "; load average (1, 5, 15 min) " << r.load_start
      << " at the start, " << r.load_end << " at the end\n";
  if (!options.note.empty()) out << "- Settings: " << options.note << "\n";
  out << "- Everything goes through the gateway with an API token of scope `read,write` (authentication "
         "on); rate limits off. Models: the first "
      << options.models << " keys of the models.dev snapshot (`" << r.first_model << "` to `" << r.last_model
      << "`); single calculations go round them.\n";
  out << "- **force**: `POST /api/v1/models/{id}/score/calculate` `{\"force_recalculation\":true}`, a "
         "calculation stored in PostgreSQL (with its history row) and published; **calculate**: the "
         "seed's own load-test request (its Testing section's `hey` command: the body names the default "
         "weights, no `force_recalculation`), answered by the stored score while it is valid for those "
         "weights (from the scoring service's memory once read; nothing is written); **healthz**: `GET "
         "/healthz`, answered by the gateway "
         "itself.\n\n";

  const double force_mean = mean(r.latency_force.ms);
  const double force_rate = r.rate_force.per_second();
  std::vector<double> batch_rates;
  for (const double batch_ms : r.batches.ms) batch_rates.push_back(options.models / (batch_ms / 1000.0));
  const double batch_rate = percentile(batch_rates, 50);
  const std::vector<double> deliveries = r.many.delivery_ms();
  const double delivery50 = percentile(deliveries, 50), delivery99 = percentile(deliveries, 99);

  out << "#### Against the seed's claims (the issue's target: 10x better)\n\n";
  out << "| Figure | Measured | Seed's claim | Target | Met? |\n|---|---:|---:|---:|---|\n";
  out << "| mean time of one calculation (force, 1 connection) | " << ms(force_mean) << " | "
      << fixed(kSeedMeanLatencyMs, 0) << " ms | <= " << fixed(kSeedMeanLatencyMs / kTargetFactor, 0)
      << " ms | " << met(force_mean <= kSeedMeanLatencyMs / kTargetFactor, r.latency_force.error_count() == 0)
      << " |\n";
  const double calculate_rate = r.rate_stored.per_second();
  out << "| calculations/s (the seed's load-test request, " << options.connections << " connections) | "
      << rate(calculate_rate) << " | " << rate(kSeedCalculationsPerSecond)
      << " | >= " << rate(kSeedCalculationsPerSecond * kTargetFactor) << " | "
      << met(calculate_rate >= kSeedCalculationsPerSecond * kTargetFactor, r.rate_stored.error_count() == 0)
      << " |\n";
  out << "| forced calculations/s, each stored and published (" << options.connections << " connections) | "
      << rate(force_rate) << " | none | - | - |\n";
  out << "| models/s in a synchronous batch of " << options.models << " (force; median of " << r.batches.ok()
      << ") | " << rate(batch_rate) << " | " << rate(kSeedBatchModelsPerSecond)
      << " | >= " << rate(kSeedBatchModelsPerSecond * kTargetFactor) << " | "
      << met(batch_rate >= kSeedBatchModelsPerSecond * kTargetFactor, r.batches.error_count() == 0) << " |\n";
  out << "| one update to " << r.many.connected << " WebSocket subscribers, p50 / p99 of "
      << deliveries.size() << " deliveries | " << fixed(delivery50, 2) << " / " << fixed(delivery99, 2)
      << " ms | none | - | - |\n\n";

  out << "#### Against references measured in the same run\n\n";
  out << "| Figure | Measured | Reference | Reference measured | Ratio |\n|---|---:|---|---:|---:|\n";
  const double healthz_mean = mean(r.latency_healthz.ms);
  const double stored_mean = mean(r.latency_stored.ms);
  out << "| mean time of one calculation (force) | " << ms(force_mean)
      << " | `GET /healthz` on the same kind of connection (the gateway's round trip) | " << ms(healthz_mean)
      << " | " << ratio(force_mean, healthz_mean) << " |\n";
  out << "| mean time of one calculation (force) | " << ms(force_mean)
      << " | the seed's load-test request, answered by the stored score (calculate) | " << ms(stored_mean)
      << " | " << ratio(force_mean, stored_mean) << " |\n";
  out << "| calculations/s (force) | " << rate(force_rate) << " | `GET /healthz`/s, same connections and "
      << "duration (the gateway's ceiling) | " << rate(r.rate_healthz.per_second()) << " | "
      << ratio(force_rate, r.rate_healthz.per_second()) << " |\n";
  out << "| calculations/s (force) | " << rate(force_rate)
      << " | the seed's load-test requests answered/s (calculate), same connections | "
      << rate(r.rate_stored.per_second()) << " | " << ratio(force_rate, r.rate_stored.per_second()) << " |\n";
  out << "| models/s in a batch | " << rate(batch_rate) << " | single forced calculations/s, "
      << options.connections << " connections | " << rate(force_rate) << " | "
      << ratio(batch_rate, force_rate) << " |\n";
  out << "| models/s in a batch | " << rate(batch_rate)
      << " | single forced calculations/s, 1 connection (1000 / mean time) | "
      << rate(force_mean > 0 ? 1000.0 / force_mean : 0) << " | "
      << ratio(batch_rate, force_mean > 0 ? 1000.0 / force_mean : 0) << " |\n";
  if (!r.many.redis_ms.empty()) {
    const double redis50 = percentile(r.many.redis_ms, 50), redis99 = percentile(r.many.redis_ms, 99);
    out << "| delivery to " << r.many.connected << " subscribers, p50 | " << ms(delivery50)
        << " | a plain Redis subscriber of `rally:scoring:updates` in the bench, p50 | " << ms(redis50)
        << " | " << ratio(delivery50, redis50) << " (" << signed_fixed(delivery50 - redis50, 2) << " ms) |\n";
    out << "| delivery to " << r.many.connected << " subscribers, p99 | " << ms(delivery99)
        << " | the same Redis subscriber, p99 | " << ms(redis99) << " | " << ratio(delivery99, redis99)
        << " (" << signed_fixed(delivery99 - redis99, 2) << " ms) |\n";
  }
  const double one50 = percentile(r.one.delivery_ms(), 50);
  out << "| delivery to " << r.many.connected << " subscribers, p50 | " << ms(delivery50)
      << " | delivery to 1 subscriber, p50 | " << ms(one50) << " | " << ratio(delivery50, one50) << " |\n\n";

  out << "#### Requests\n\n";
  out << "| Run | Connections | Requests | Per second | Mean ms | p50 ms | p90 ms | p99 ms | Max ms | Failed "
         "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  const auto load_row = [&](const std::string& name, int connections, const LoadResult& load) {
    out << "| " << name << " | " << connections << " | " << load.ok() << " | " << fixed(load.per_second(), 1)
        << " | " << fixed(mean(load.ms), 2) << " | " << fixed(percentile(load.ms, 50), 2) << " | "
        << fixed(percentile(load.ms, 90), 2) << " | " << fixed(percentile(load.ms, 99), 2) << " | "
        << fixed(percentile(load.ms, 100), 2) << " | " << errors_cell(load.errors) << " |\n";
  };
  load_row("latency: healthz", 1, r.latency_healthz);
  load_row("latency: calculate", 1, r.latency_stored);
  load_row("latency: force", 1, r.latency_force);
  load_row("throughput: healthz", options.connections, r.rate_healthz);
  load_row("throughput: calculate", options.connections, r.rate_stored);
  load_row("throughput: force", options.connections, r.rate_force);
  load_row("batch of " + std::to_string(options.models) + " (force)", 1, r.batches);
  out << "\nBatches: ";
  for (std::size_t i = 0; i < r.batches.ms.size(); ++i) {
    out << (i == 0 ? "" : ", ") << fixed(r.batches.ms[i] / 1000.0, 2) << " s (" << rate(batch_rates[i])
        << " models/s)";
  }
  out << "; each answered 200 with `status: completed` and " << options.models << " successes.\n\n";

  out << "#### WebSocket delivery\n\n";
  out << "Times from just before the REST request that recalculates a model is written until the update was "
         "read, one update at a time (the next 100 ms after the previous reached everyone).\n\n";
  out << "| Subscribers | Connect s | Updates | Deliveries | p50 ms | p90 ms | p99 ms | Max ms | Last of "
         "each "
         "update, p50 ms | REST round trip p50 ms | Redis subscriber p50 / p99 ms | Failed |\n"
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const DeliveryResult* d : {&r.one, &r.many}) {
    const std::vector<double> values = d->delivery_ms();
    out << "| " << d->connected << " | " << fixed(d->connect_seconds, 2) << " | " << d->rest_ms.size()
        << " | " << values.size() << " | " << fixed(percentile(values, 50), 2) << " | "
        << fixed(percentile(values, 90), 2) << " | " << fixed(percentile(values, 99), 2) << " | "
        << fixed(percentile(values, 100), 2) << " | " << fixed(percentile(d->last_ms(), 50), 2) << " | "
        << fixed(percentile(d->rest_ms, 50), 2) << " | "
        << (d->redis_ms.empty()
                ? std::string("-")
                : fixed(percentile(d->redis_ms, 50), 2) + " / " + fixed(percentile(d->redis_ms, 99), 2))
        << " | " << errors_cell(d->errors) << " |\n";
  }
  for (const DeliveryResult* d : {&r.one, &r.many}) {
    if (!d->first_error.empty()) {
      out << "\nFirst error with " << d->subscribers << " subscribers: `" << d->first_error << "`\n";
    }
  }
  for (const auto& [name, load] :
       std::vector<std::pair<std::string, const LoadResult*>>{{"latency: healthz", &r.latency_healthz},
                                                              {"latency: calculate", &r.latency_stored},
                                                              {"latency: force", &r.latency_force},
                                                              {"throughput: healthz", &r.rate_healthz},
                                                              {"throughput: calculate", &r.rate_stored},
                                                              {"throughput: force", &r.rate_force},
                                                              {"batch", &r.batches}}) {
    if (!load->first_error.empty()) out << "\nFirst error of " << name << ": `" << load->first_error << "`\n";
  }

  out << "\n#### CPU seconds used during each run\n\n";
  out << "bench: this client; other: the rest of the machine.\n\n| Run | Wall s |";
  for (const WatchedProcess& watched : options.watched) out << " " << watched.name << " |";
  out << " bench | other |\n|---|---:|";
  for (std::size_t i = 0; i < options.watched.size() + 2; ++i) out << "---:|";
  out << "\n";
  const auto cpu_row = [&](const std::string& name, double wall, const std::map<std::string, double>& cpu) {
    out << "| " << name << " | " << fixed(wall, 1) << " |";
    for (const WatchedProcess& watched : options.watched) {
      const auto it = cpu.find(watched.name);
      out << " " << (it == cpu.end() ? "-" : fixed(it->second, 1)) << " |";
    }
    const auto bench = cpu.find("bench"), other = cpu.find("other");
    out << " " << (bench == cpu.end() ? "-" : fixed(bench->second, 1)) << " | "
        << (other == cpu.end() ? "-" : fixed(other->second, 1)) << " |\n";
  };
  cpu_row("throughput: healthz", r.rate_healthz.seconds, r.rate_healthz.cpu);
  cpu_row("throughput: calculate", r.rate_stored.seconds, r.rate_stored.cpu);
  cpu_row("throughput: force", r.rate_force.seconds, r.rate_force.cpu);
  cpu_row("batches", r.batches.seconds, r.batches.cpu);
  cpu_row("delivery: 1 subscriber", r.one.seconds, r.one.cpu);
  cpu_row("delivery: " + std::to_string(r.many.connected) + " subscribers", r.many.seconds, r.many.cpu);
  return out.str();
}

// ---- The run
// -----------------------------------------------------------------------------------------------

std::string calculate_target(const std::string& model) {
  return "/api/v1/models/" + percent_encode(model) + "/score/calculate";
}

// A forced calculation of models[0] answering 200: the gateway, the token and the scoring service's catalog
// are all in place.
bool wait_until_ready(asio::io_context& io, const Options& options, const std::string& model) {
  const Clock::time_point deadline = Clock::now() + options.wait_ready;
  Load probe;
  probe.request = [&](int) { return Request{http::verb::post, calculate_target(model), "{}"}; };
  probe.count = 1;
  LoadResult result;
  if (poll_until(deadline, [&] { return (result = run_load(io, options, probe)).ok() == 1; })) return true;
  std::cerr << "rally-scoring-bench: not ready after " << options.wait_ready.count()
            << " s: " << result.first_error << "\n";
  return false;
}

void progress(const std::string& name, const LoadResult& result) {
  std::cerr << name << ": " << result.ok() << " requests in " << fixed(result.seconds, 2) << " s ("
            << fixed(result.per_second(), 1) << "/s), p50 " << fixed(percentile(result.ms, 50), 2)
            << " ms, p99 " << fixed(percentile(result.ms, 99), 2) << " ms, " << result.error_count()
            << " errors" << (result.first_error.empty() ? "" : " (first: " + result.first_error + ")")
            << "\n";
}

void progress(const DeliveryResult& result) {
  const std::vector<double> values = result.delivery_ms();
  std::cerr << "delivery: " << result.connected << " subscribers (connected in "
            << fixed(result.connect_seconds, 2) << " s), " << values.size() << " deliveries, p50 "
            << fixed(percentile(values, 50), 2) << " ms, p99 " << fixed(percentile(values, 99), 2) << " ms, "
            << result.error_count() << " errors"
            << (result.first_error.empty() ? "" : " (first: " + result.first_error + ")") << "\n";
}

void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int run(const Options& options) {
  raise_open_file_limit();
  const std::vector<std::string> all_models = models_dev_keys(read_file(options.models_dev));
  if (all_models.size() < static_cast<std::size_t>(options.models)) {
    std::cerr << "rally-scoring-bench: " << options.models_dev << " holds " << all_models.size()
              << " models, fewer than --models=" << options.models << "\n";
    return 1;
  }
  const std::vector<std::string> models(all_models.begin(), all_models.begin() + options.models);
  asio::io_context io;
  if (!wait_until_ready(io, options, models.front())) return 1;

  Results r;
  r.started_at = utc_now();
  r.load_start = load_average();
  r.first_model = models.front();
  r.last_model = models.back();
  const Clock::time_point run_started = Clock::now();

  const std::string force_body = R"({"force_recalculation":true})";
  const auto healthz = [](int) { return Request{http::verb::get, "/healthz", ""}; };
  // The body of the seed's load test (scoring-api-reference.md, "Load Testing"): the default weights.
  const std::string seed_body =
      R"({"configuration":{"weights":{"response_speed":0.25,"model_efficiency":0.20,)"
      R"("cost_effectiveness":0.25,"capability":0.20,"recency":0.10}}})";
  const auto stored = [&](int i) {
    return Request{http::verb::post, calculate_target(models[static_cast<std::size_t>(i) % models.size()]),
                   seed_body};
  };
  const auto force = [&](int i) {
    return Request{http::verb::post, calculate_target(models[static_cast<std::size_t>(i) % models.size()]),
                   force_body};
  };

  // Latency, one request at a time. The forced run goes first so the calculate run finds every score it asks
  // for; a short warm-up of each kind is not recorded.
  for (const auto& make : {std::function<Request(int)>(healthz), std::function<Request(int)>(force)}) {
    run_load(io, options, Load{make, nullptr, 1, 20, {}});
  }
  r.latency_healthz = run_load(io, options, Load{healthz, nullptr, 1, options.latency_requests, {}});
  progress("latency healthz", r.latency_healthz);
  r.latency_force = run_load(io, options, Load{force, nullptr, 1, options.latency_requests, {}});
  progress("latency force", r.latency_force);
  r.latency_stored = run_load(io, options, Load{stored, nullptr, 1, options.latency_requests, {}});
  progress("latency calculate", r.latency_stored);

  // Batches, which also store a score for every model before the calculate throughput run.
  json::object batch_body;
  json::array ids;
  for (const std::string& model : models) ids.emplace_back(model);
  batch_body["model_ids"] = std::move(ids);
  batch_body["force_recalculation"] = true;
  const std::string batch_text = json::serialize(batch_body);
  Load batch{
      [&](int) {
        return Request{http::verb::post, "/api/v1/models/scores/batch", batch_text};
      },
      [&](const Reply& reply) -> std::optional<std::string> {
        boost::system::error_code ec;
        const json::value parsed = json::parse(reply.body, ec);
        const json::value* data =
            ec || !parsed.is_object() ? nullptr : parsed.as_object().if_contains("data");
        if (data == nullptr || !data->is_object()) return "check: no data in " + reply.body.substr(0, 200);
        const json::object& fields = data->as_object();
        const json::value* status = fields.if_contains("status");
        const json::value* successes = fields.if_contains("success_count");
        if (status == nullptr || !status->is_string() || status->as_string() != "completed" ||
            successes == nullptr || !successes->is_int64() || successes->as_int64() != options.models) {
          return "check: status " + (status ? json::serialize(*status) : std::string("missing")) +
                 ", success_count " + (successes ? json::serialize(*successes) : std::string("missing"));
        }
        return std::nullopt;
      },
      1,
      options.batches,
      {}};
  r.batches = run_load(io, options, batch);
  progress("batches", r.batches);

  const std::chrono::milliseconds duration = options.duration;
  r.rate_healthz = run_load(io, options, Load{healthz, nullptr, options.connections, 0, duration});
  progress("throughput healthz", r.rate_healthz);
  r.rate_stored = run_load(io, options, Load{stored, nullptr, options.connections, 0, duration});
  progress("throughput calculate", r.rate_stored);
  r.rate_force = run_load(io, options, Load{force, nullptr, options.connections, 0, duration});
  progress("throughput force", r.rate_force);

  // The gateway relays the last of the forced run's updates to nobody; let it finish first.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  r.one = run_delivery(io, options, models, 1);
  progress(r.one);
  r.many = run_delivery(io, options, models, options.subscribers);
  progress(r.many);

  r.load_end = load_average();
  r.run_seconds = std::chrono::duration<double>(Clock::now() - run_started).count();
  const std::string report = render_report(options, r);
  if (!publish_report(report, options.output, "rally-scoring-bench")) return 1;
  const bool clean = r.latency_healthz.error_count() + r.latency_stored.error_count() +
                         r.latency_force.error_count() + r.rate_healthz.error_count() +
                         r.rate_stored.error_count() + r.rate_force.error_count() + r.batches.error_count() +
                         r.one.error_count() + r.many.error_count() ==
                     0;
  return clean ? 0 : 3;
}

}  // namespace
}  // namespace rally::bench

int main(int argc, char** argv) {
  rally::bench::Options options;
  return rally::bench::bench_main(
      "rally-scoring-bench", rally::bench::kUsage, [&] { options = rally::bench::parse_options(argc, argv); },
      [&] { return rally::bench::run(options); });
}
