// rally-llm-stream-bench: streamed chat completions through the gateway (gateway -> llm-proxy over gRPC ->
// LLM simulator) against the same requests sent straight to the simulator, in one run, at several
// concurrency levels. The direct path is the reference: the report gives the gateway path's added latency
// and its throughput as a ratio of the direct path's (docs/benchmarks.md).
//
// One io_context on one thread drives every connection: HTTP/1.1 keep-alive, one request in flight per
// connection, the body read as it arrives so the time of the first content token is the time of the read
// that delivered it.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_tcp.h"
#include "bench/openai_stream_reader.h"

namespace rally::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// ---- Options
// -----------------------------------------------------------------------------------------------

struct Options {
  tcp::endpoint direct;
  tcp::endpoint gateway;
  std::vector<int> concurrency{1, 50, 500};
  std::vector<int> requests;  // per level; empty: max(100, 10 x concurrency)
  int rounds = 2;
  int warmup = 20;
  std::string model = "gpt-4o";
  std::string prompt = "Describe a mountain river at dawn.";
  int prompts = 1;  // distinct prompts; request i uses prompt i % prompts
  int max_tokens = 0;
  std::chrono::seconds timeout{120};
  std::chrono::seconds wait_ready{60};
  std::chrono::milliseconds pause{1000};
  // The first requests of a phase's connections are spread evenly over this period, so the level runs as a
  // steady state of overlapping streams rather than waves that start together. Unset: the median length of
  // a direct warm-up stream; 0: every connection starts at once (a burst).
  std::optional<std::chrono::milliseconds> stagger;
  std::string output;
  std::string samples_file;
  std::string note;
  std::vector<WatchedProcess> watched;
};

constexpr std::string_view kUsage =
    R"(Usage: rally-llm-stream-bench --direct=HOST:PORT --gateway=HOST:PORT [options]

Sends the same streamed chat completions (POST /v1/chat/completions, "stream": true) to the LLM simulator
directly and through the gateway, at each concurrency level, and prints a Markdown report.

  --direct=HOST:PORT      the LLM simulator (the reference)
  --gateway=HOST:PORT     the gateway (gateway -> llm-proxy -> the same simulator)
  --concurrency=LIST      concurrent streams per level (default 1,50,500)
  --requests=LIST         requests per target and level, one number for all levels or one per level
                          (default max(100, 10 x concurrency): 100, 500, 5000)
  --rounds=N              each level runs in N alternating rounds, direct first, then gateway first, ...
                          so slow drift of the machine hits both targets alike (default 2)
  --warmup=N              unrecorded requests per target before the first level (default 20)
  --model=NAME            model (default gpt-4o)
  --prompt=TEXT           user message (default "Describe a mountain river at dawn.")
  --prompts=N             distinct prompts (TEXT #k); 1 = every request identical (default 1)
  --max-tokens=N          max_tokens of each request (default: none)
  --timeout=SECONDS       deadline of one request (default 120)
  --wait-ready=SECONDS    wait up to this long for GET /v1/models to answer 200 on both (default 60)
  --pause-ms=MS           pause between phases (default 1000)
  --stagger-ms=MS         spread the connections' first requests over MS, so streams overlap in a steady
                          state; 0 starts them all at once (a burst). Default: the median length of a
                          direct warm-up stream (a burst with --warmup=0)
  --watch=NAME=PID        report CPU time per phase and memory (VmHWM) of this process (repeatable)
  --note=TEXT             a line added to the report (e.g. what else ran on the machine)
  --output=FILE           also write the report to FILE
  --samples=FILE          write every request (target, level, round, connection, start, ttft, total) as CSV
)";

std::vector<int> parse_list(const std::string& text, const std::string& key, int min, int max) {
  std::vector<int> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(parse_int(item, key, min, max));
  if (values.empty()) throw std::invalid_argument(key + ": empty list");
  return values;
}

Options parse_options(int argc, char** argv) {
  Options options;
  bool have_direct = false;
  bool have_gateway = false;
  for (int i = 1; i < argc; ++i) {
    const auto [key, value] = split_option(argv[i], kUsage);
    if (key == "--direct") {
      options.direct = parse_endpoint(value, key);
      have_direct = true;
    } else if (key == "--gateway") {
      options.gateway = parse_endpoint(value, key);
      have_gateway = true;
    } else if (key == "--concurrency") {
      options.concurrency = parse_list(value, key, 1, 20000);
    } else if (key == "--requests") {
      options.requests = parse_list(value, key, 1, 10000000);
    } else if (key == "--rounds") {
      options.rounds = parse_int(value, key, 1, 100);
    } else if (key == "--warmup") {
      options.warmup = parse_int(value, key, 0, 100000);
    } else if (key == "--model") {
      options.model = value;
    } else if (key == "--prompt") {
      options.prompt = value;
    } else if (key == "--prompts") {
      options.prompts = parse_int(value, key, 1, 1000000);
    } else if (key == "--max-tokens") {
      options.max_tokens = parse_int(value, key, 1, 65536);
    } else if (key == "--timeout") {
      options.timeout = std::chrono::seconds(parse_int(value, key, 1, 3600));
    } else if (key == "--wait-ready") {
      options.wait_ready = std::chrono::seconds(parse_int(value, key, 0, 3600));
    } else if (key == "--pause-ms") {
      options.pause = std::chrono::milliseconds(parse_int(value, key, 0, 600000));
    } else if (key == "--stagger-ms") {
      options.stagger = std::chrono::milliseconds(parse_int(value, key, 0, 600000));
    } else if (key == "--samples") {
      options.samples_file = value;
    } else if (key == "--watch") {
      options.watched.push_back(parse_watched(value, key, /*tree=*/false));
    } else if (key == "--note") {
      options.note = value;
    } else if (key == "--output") {
      options.output = value;
    } else {
      throw std::invalid_argument("unknown option " + key);
    }
  }
  if (!have_direct || !have_gateway) throw std::invalid_argument("--direct and --gateway are required");
  if (options.requests.size() != 1 && !options.requests.empty() &&
      options.requests.size() != options.concurrency.size()) {
    throw std::invalid_argument("--requests: give one number or one per --concurrency level");
  }
  return options;
}

int requests_for_level(const Options& options, std::size_t level) {
  // Ten requests per connection let the streams of a level overlap in a steady state after the staggered
  // start; 100 at the low levels give a p99 that is not just the maximum.
  if (options.requests.empty()) return std::max(100, 10 * options.concurrency[level]);
  return options.requests.size() == 1 ? options.requests.front() : options.requests[level];
}

// ---- /proc
// -------------------------------------------------------------------------------------------------

// utime + stime of a process in seconds (not its children's), or nullopt when it is gone.
std::optional<double> process_cpu_seconds(int pid) {
  const std::vector<long long> fields = process_stat_fields(std::to_string(pid));
  if (fields.empty()) return std::nullopt;
  const long long ticks = fields.size() > 12 ? fields[11] + fields[12] : 0;
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "VmHWM:   1234 kB" line of /proc/PID/status, in MiB.
std::optional<double> process_memory_mib(int pid, std::string_view key) {
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key, 0) == 0 && line.size() > key.size() && line[key.size()] == ':') {
      return std::stod(line.substr(key.size() + 1)) / 1024.0;
    }
  }
  return std::nullopt;
}

// ---- One phase: N requests at concurrency C against one target
// --------------------------------------------

struct Sample {
  bool ok = false;
  int prompt = 0;
  int round = 0;
  int connection = 0;
  bool new_connection = false;  // the connection's first request
  double start_ms = 0;          // since the phase's start
  double ttft_ms = 0;
  double total_ms = 0;
  std::uint64_t tokens = 0;
  std::uint64_t text_hash = 0;
};

struct PhaseResult {
  std::vector<Sample> samples;
  std::map<std::string, int> errors;  // kind -> count
  std::string first_error;            // the first error with its detail, for diagnosis
  double wall_seconds = 0;
  std::map<std::string, double> cpu_seconds;  // watched process (and "bench") -> CPU during the phase
};

struct Target {
  std::string name;
  tcp::endpoint endpoint;
};

class Phase;

// One keep-alive connection running requests one after another until the phase has none left.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Phase& phase, int index)
      : phase_(phase), index_(index), stream_(io), start_timer_(io) {}

  void connect();
  void next();
  void next_after(std::chrono::nanoseconds delay) {
    start_timer_.expires_after(delay);
    start_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->next();
    });
  }
  bool connected() const { return connected_; }
  void close() { shut_down(stream_); }

 private:
  void on_connect(beast::error_code ec, bool first);
  void on_write(beast::error_code ec);
  void on_header(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void finish_request(const std::string& error, const std::string& detail);

  Phase& phase_;
  const int index_;
  beast::tcp_stream stream_;
  asio::steady_timer start_timer_;
  int requests_on_connection_ = 0;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, 16384> body_buffer_{};
  OpenAiStreamReader reader_;
  std::string error_body_;  // the start of a non-200 body
  Sample sample_;
  Clock::time_point started_;
  bool in_request_ = false;
  bool connected_ = false;
};

class Phase {
 public:
  Phase(asio::io_context& io, const Options& options, const Target& target,
        const std::vector<std::string>& bodies, int concurrency, int requests,
        std::chrono::milliseconds stagger)
      : io_(io),
        options_(options),
        target_(target),
        bodies_(bodies),
        concurrency_(std::min(concurrency, requests)),
        requests_(requests),
        stagger_(stagger) {}

  PhaseResult run() {
    result_.samples.reserve(static_cast<std::size_t>(requests_));
    for (int i = 0; i < concurrency_; ++i) {
      connections_.push_back(std::make_shared<Connection>(io_, *this, i));
      connections_.back()->connect();
    }
    io_.restart();
    io_.run();
    connections_.clear();
    return std::move(result_);
  }

  const Options& options() const { return options_; }
  const tcp::endpoint& endpoint() const { return target_.endpoint; }

  // The first connection attempts of the phase: requests start once every connection is up (or failed),
  // so connection set-up is outside the measured time.
  void on_first_connect(bool ok, const std::string& detail) {
    if (!ok) record_error("connect", detail);
    if (++connects_done_ < concurrency_) return;
    take_cpu_snapshot(cpu_before_);
    started_ = Clock::now();
    for (std::size_t i = 0; i < connections_.size(); ++i) {
      if (!connections_[i]->connected()) {
        connection_finished();
      } else if (i == 0 || stagger_.count() == 0) {
        connections_[i]->next();
      } else {
        connections_[i]->next_after(std::chrono::duration_cast<std::chrono::nanoseconds>(stagger_) *
                                    static_cast<long>(i) / concurrency_);
      }
    }
  }

  Clock::time_point started() const { return started_; }

  // The next request: its index (which picks the prompt), or nullopt when the phase has none left.
  std::optional<int> take_request() {
    if (issued_ >= requests_) return std::nullopt;
    return issued_++;
  }
  const std::string& body_for(int index) const {
    return bodies_[static_cast<std::size_t>(index) % bodies_.size()];
  }
  int prompt_for(int index) const { return index % static_cast<int>(bodies_.size()); }

  void record(const Sample& sample) { result_.samples.push_back(sample); }
  void record_error(const std::string& kind, const std::string& detail) {
    ++result_.errors[kind];
    if (result_.first_error.empty()) result_.first_error = kind + (detail.empty() ? "" : ": " + detail);
  }

  // A connection has no more requests to run (or could not connect).
  void connection_finished() {
    if (++finished_ < concurrency_) return;
    result_.wall_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    std::map<std::string, double> after;
    take_cpu_snapshot(after);
    for (const auto& [name, seconds] : after) {
      const auto before = cpu_before_.find(name);
      if (before != cpu_before_.end()) result_.cpu_seconds[name] = seconds - before->second;
    }
  }

 private:
  void take_cpu_snapshot(std::map<std::string, double>& into) const {
    into["bench"] = own_cpu_seconds();
    for (const WatchedProcess& watched : options_.watched) {
      if (auto seconds = process_cpu_seconds(watched.pid)) into[watched.name] = *seconds;
    }
  }

  asio::io_context& io_;
  const Options& options_;
  const Target& target_;
  const std::vector<std::string>& bodies_;
  const int concurrency_;
  const int requests_;
  const std::chrono::milliseconds stagger_;
  std::vector<std::shared_ptr<Connection>> connections_;
  int connects_done_ = 0;
  int finished_ = 0;
  int issued_ = 0;
  Clock::time_point started_;
  std::map<std::string, double> cpu_before_;
  PhaseResult result_;
};

void Connection::connect() {
  stream_.expires_after(std::chrono::seconds(10));
  stream_.async_connect(phase_.endpoint(), [self = shared_from_this()](beast::error_code ec) {
    self->on_connect(ec, /*first=*/true);
  });
}

void Connection::on_connect(beast::error_code ec, bool first) {
  connected_ = !ec;
  if (connected_) set_no_delay(stream_.socket());
  if (first) {
    phase_.on_first_connect(connected_, ec ? ec.message() : "");
    return;  // the phase starts every connected connection once all attempts are done
  }
  if (ec) {
    finish_request("connect", ec.message());
    return;
  }
  next();
}

void Connection::next() {
  const std::optional<int> index = phase_.take_request();
  if (!index) {
    close();
    phase_.connection_finished();
    return;
  }
  request_ = http::request<http::string_body>(http::verb::post, "/v1/chat/completions", 11);
  request_.set(http::field::host, phase_.endpoint().address().to_string());
  request_.set(http::field::content_type, "application/json");
  request_.set(http::field::accept, "text/event-stream");
  request_.set(http::field::authorization, "Bearer rally-bench");
  request_.body() = phase_.body_for(*index);
  request_.keep_alive(true);
  request_.prepare_payload();

  sample_ = Sample{};
  sample_.prompt = phase_.prompt_for(*index);
  sample_.connection = index_;
  sample_.new_connection = requests_on_connection_++ == 0;
  reader_ = OpenAiStreamReader();
  error_body_.clear();
  in_request_ = true;
  started_ = Clock::now();
  sample_.start_ms = std::chrono::duration<double, std::milli>(started_ - phase_.started()).count();
  stream_.expires_after(phase_.options().timeout);  // one deadline for the whole request
  http::async_write(stream_, request_,
                    [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void Connection::on_write(beast::error_code ec) {
  if (ec) return finish_request("write", ec.message());
  parser_.emplace();
  parser_->body_limit(boost::none);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code read_ec, std::size_t) { self->on_header(read_ec); });
}

void Connection::on_header(beast::error_code ec) {
  if (ec == beast::error::timeout) return finish_request("timeout", "waiting for the response head");
  if (ec) return finish_request("read", ec.message());
  read_body();
}

void Connection::read_body() {
  auto& body = parser_->get().body();
  body.data = body_buffer_.data();
  body.size = body_buffer_.size();
  if (parser_->is_done()) return on_body({});
  http::async_read_some(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void Connection::on_body(beast::error_code ec) {
  const Clock::time_point now = Clock::now();
  if (ec == http::error::need_buffer) ec = {};
  const std::size_t received = body_buffer_.size() - parser_->get().body().size;
  const std::string_view bytes(body_buffer_.data(), received);
  const bool ok_status = parser_->get().result() == http::status::ok;
  if (ok_status) {
    if (reader_.feed(bytes))
      sample_.ttft_ms = std::chrono::duration<double, std::milli>(now - started_).count();
  } else if (error_body_.size() < 512) {
    error_body_.append(bytes.substr(0, 512 - error_body_.size()));
  }
  if (ec == beast::error::timeout) return finish_request("timeout", "reading the stream");
  if (ec) return finish_request("read", ec.message());
  if (!parser_->is_done()) return read_body();

  sample_.total_ms = std::chrono::duration<double, std::milli>(now - started_).count();
  if (!ok_status) {
    return finish_request("HTTP " + std::to_string(parser_->get().result_int()), error_body_);
  }
  if (reader_.error()) return finish_request("stream error", *reader_.error());
  if (!reader_.done()) return finish_request("no [DONE]", "the body ended before data: [DONE]");
  if (!reader_.content_seen()) return finish_request("no content", "the stream carried no content");
  sample_.ok = true;
  sample_.tokens = reader_.completion_tokens().value_or(reader_.content_events());
  sample_.text_hash = reader_.text_hash();
  finish_request("", "");
}

void Connection::finish_request(const std::string& error, const std::string& detail) {
  const bool connect_failed = error == "connect";
  if (in_request_) {
    in_request_ = false;
    if (!error.empty()) sample_.ok = false;
    if (sample_.total_ms == 0) {
      sample_.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    }
    phase_.record(sample_);
  }
  if (!error.empty()) phase_.record_error(error, detail);
  const bool reusable = error.empty() && parser_ && parser_->keep_alive();
  if (reusable) return next();
  if (connect_failed) {
    // Give up on this connection; the others run the remaining requests.
    close();
    phase_.connection_finished();
    return;
  }
  close();
  buffer_.clear();
  parser_.reset();
  requests_on_connection_ = 0;
  stream_.expires_after(std::chrono::seconds(10));
  stream_.async_connect(phase_.endpoint(), [self = shared_from_this()](beast::error_code ec) {
    self->on_connect(ec, /*first=*/false);
  });
}

// ---- Readiness
// ---------------------------------------------------------------------------------------------

// Status of GET /v1/models, or 0 when the target does not answer.
int get_models_status(const tcp::endpoint& endpoint) {
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(2));
    stream.connect(endpoint);
    http::request<http::empty_body> request(http::verb::get, "/v1/models", 11);
    request.set(http::field::host, endpoint.address().to_string());
    request.set(http::field::authorization, "Bearer rally-bench");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return response.result_int();
  } catch (const std::exception&) {
    return 0;
  }
}

bool wait_until_ready(const std::vector<Target>& targets, std::chrono::seconds limit) {
  const Clock::time_point deadline = Clock::now() + limit;
  for (const Target& target : targets) {
    int status = 0;
    if (!poll_until(deadline, [&] { return (status = get_models_status(target.endpoint)) == 200; })) {
      std::cerr << "rally-llm-stream-bench: " << target.name << " (" << target.endpoint
                << ") is not ready: GET /v1/models answered " << status << "\n";
      return false;
    }
  }
  return true;
}

// ---- Report
// ------------------------------------------------------------------------------------------------

// Everything measured for one target at one level, over its rounds.
struct TargetLevel {
  std::vector<Sample> samples;
  std::map<std::string, int> errors;
  std::string first_error;
  double wall_seconds = 0;
  std::map<std::string, double> cpu_seconds;
  int mismatches = 0;  // answers whose text differs from the direct path's for the same prompt

  void add(PhaseResult phase) {
    samples.insert(samples.end(), phase.samples.begin(), phase.samples.end());
    for (const auto& [kind, count] : phase.errors) errors[kind] += count;
    if (first_error.empty()) first_error = phase.first_error;
    wall_seconds += phase.wall_seconds;
    for (const auto& [name, seconds] : phase.cpu_seconds) cpu_seconds[name] += seconds;
  }
  std::vector<double> ttft() const { return collect(&Sample::ttft_ms); }
  std::vector<double> total() const { return collect(&Sample::total_ms); }
  std::uint64_t tokens() const {
    std::uint64_t sum = 0;
    for (const Sample& sample : samples) sum += sample.ok ? sample.tokens : 0;
    return sum;
  }
  int ok_count() const {
    return static_cast<int>(
        std::count_if(samples.begin(), samples.end(), [](const Sample& s) { return s.ok; }));
  }
  int error_count() const { return total_count(errors) + mismatches; }
  double tokens_per_second() const {
    return wall_seconds > 0 ? static_cast<double>(tokens()) / wall_seconds : 0;
  }

 private:
  std::vector<double> collect(double Sample::*field) const {
    std::vector<double> values;
    for (const Sample& sample : samples) {
      if (sample.ok) values.push_back(sample.*field);
    }
    return values;
  }
};

struct LevelResult {
  int concurrency = 0;
  int requests = 0;
  TargetLevel direct;
  TargetLevel gateway;
};

// The gateway must say exactly what the simulator says: compare each answer's text with the direct path's
// answer to the same prompt.
void count_mismatches(std::vector<LevelResult>& levels) {
  std::map<int, std::uint64_t> reference;
  for (const LevelResult& level : levels) {
    for (const Sample& sample : level.direct.samples) {
      if (sample.ok) reference.emplace(sample.prompt, sample.text_hash);
    }
  }
  for (LevelResult& level : levels) {
    for (TargetLevel* target : {&level.direct, &level.gateway}) {
      for (Sample& sample : target->samples) {
        const auto expected = reference.find(sample.prompt);
        if (sample.ok && expected != reference.end() && expected->second != sample.text_hash) {
          sample.ok = false;
          ++target->mismatches;
        }
      }
    }
  }
}

// The kinds of errors, then the answers that differ from the direct path's.
std::string target_errors_cell(const TargetLevel& target) {
  std::vector<std::pair<std::string, int>> counts(target.errors.begin(), target.errors.end());
  if (target.mismatches > 0) counts.emplace_back("text differs", target.mismatches);
  return errors_cell(counts);
}

struct Memory {
  std::string name;
  std::optional<double> rss_start;
  std::optional<double> hwm_end;
  std::optional<double> rss_end;
};

std::string mib(const std::optional<double>& value) {
  return value ? fixed(*value, 1) : "-";
}

std::string render_report(const Options& options, const std::vector<LevelResult>& levels,
                          const std::vector<Memory>& memory, std::chrono::milliseconds stagger,
                          const std::string& started_at, const std::string& load_start,
                          const std::string& load_end, double run_seconds) {
  std::ostringstream out;
  out << "## LLM streaming: gateway vs direct to the simulator\n\n";
  out << "- Date: " << started_at << "; run took " << fixed(run_seconds, 0) << " s\n";
  out << "- Machine: " << machine_description() << "\n";
  out << "- Load average (1, 5, 15 min): " << load_start << " at the start, " << load_end << " at the end\n";
  if (!options.note.empty()) out << "- Note: " << options.note << "\n";
  out << "- Request: `POST /v1/chat/completions`, model `" << options.model << "`, `stream: true`, "
      << "`stream_options.include_usage`, " << options.prompts << " distinct prompt(s)"
      << (options.max_tokens > 0 ? ", max_tokens " + std::to_string(options.max_tokens) : std::string())
      << "; " << options.rounds << " alternating round(s) per level, " << options.warmup
      << " warm-up requests per target\n";
  out << "- Start: "
      << (stagger.count() > 0 ? "each level's first requests spread over " + std::to_string(stagger.count()) +
                                    " ms (streams overlap in a steady state)"
                              : std::string("every connection's first request at once (a burst)"))
      << "\n";
  if (!levels.empty()) {
    std::vector<double> tokens;
    for (const Sample& sample : levels.front().direct.samples) {
      if (sample.ok) tokens.push_back(static_cast<double>(sample.tokens));
    }
    out << "- Reply: " << fixed(percentile(tokens, 50), 0) << " completion tokens (median)\n";
  }
  out << "- Direct = client -> simulator. Gateway = client -> gateway -> llm-proxy (gRPC) -> simulator. "
         "Added = gateway - direct.\n\n";

  out << "### Time to first content token (ms)\n\n";
  out << "| Streams | Requests | p50 direct | p50 gateway | p50 added | p99 direct | p99 gateway | p99 added "
         "|\n";
  out << "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const LevelResult& level : levels) {
    const double d50 = percentile(level.direct.ttft(), 50), g50 = percentile(level.gateway.ttft(), 50);
    const double d99 = percentile(level.direct.ttft(), 99), g99 = percentile(level.gateway.ttft(), 99);
    out << "| " << level.concurrency << " | " << level.requests << " | " << fixed(d50, 2) << " | "
        << fixed(g50, 2) << " | " << signed_fixed(g50 - d50, 2) << " | " << fixed(d99, 2) << " | "
        << fixed(g99, 2) << " | " << signed_fixed(g99 - d99, 2) << " |\n";
  }

  out << "\n### Total time per stream (ms)\n\n";
  out << "| Streams | p50 direct | p50 gateway | p50 added | p99 direct | p99 gateway | p99 added |\n";
  out << "|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const LevelResult& level : levels) {
    const double d50 = percentile(level.direct.total(), 50), g50 = percentile(level.gateway.total(), 50);
    const double d99 = percentile(level.direct.total(), 99), g99 = percentile(level.gateway.total(), 99);
    out << "| " << level.concurrency << " | " << fixed(d50, 2) << " | " << fixed(g50, 2) << " | "
        << signed_fixed(g50 - d50, 2) << " | " << fixed(d99, 2) << " | " << fixed(g99, 2) << " | "
        << signed_fixed(g99 - d99, 2) << " |\n";
  }

  out << "\n### Throughput and errors\n\n";
  out << "| Streams | tokens/s direct | tokens/s gateway | ratio | errors direct | errors gateway |\n";
  out << "|---:|---:|---:|---:|---|---|\n";
  for (const LevelResult& level : levels) {
    const double direct = level.direct.tokens_per_second(), gateway = level.gateway.tokens_per_second();
    out << "| " << level.concurrency << " | " << fixed(direct, 0) << " | " << fixed(gateway, 0) << " | "
        << fixed(direct > 0 ? gateway / direct : 0, 3) << " | " << target_errors_cell(level.direct) << " | "
        << target_errors_cell(level.gateway) << " |\n";
  }
  for (const LevelResult& level : levels) {
    for (const TargetLevel* target : {&level.direct, &level.gateway}) {
      if (!target->first_error.empty()) {
        out << "\nFirst error at " << level.concurrency << " streams ("
            << (target == &level.direct ? "direct" : "gateway") << "): `" << target->first_error << "`\n";
      }
    }
  }

  if (!levels.empty()) {
    const LevelResult& top = levels.back();
    const double added = percentile(top.gateway.ttft(), 50) - percentile(top.direct.ttft(), 50);
    const double direct = top.direct.tokens_per_second();
    const double ratio = direct > 0 ? top.gateway.tokens_per_second() / direct : 0;
    const bool clean = top.direct.error_count() == 0 && top.gateway.error_count() == 0;
    out << "\n### Targets at " << top.concurrency << " streams\n\n";
    out << "| Target | Measured | Result |\n|---|---:|---|\n";
    out << "| p50 added time to first token < 1 ms | " << signed_fixed(added, 2) << " ms | "
        << (added < 1.0 && clean ? "met" : "NOT met") << " |\n";
    out << "| tokens/s ratio gateway / direct > 0.9 | " << fixed(ratio, 3) << " | "
        << (ratio > 0.9 && clean ? "met" : "NOT met") << " |\n";
    if (!clean) out << "\nErrors at this level: a target counts as met only without errors.\n";
  }

  bool any_cpu = false;
  for (const LevelResult& level : levels) any_cpu = any_cpu || !level.gateway.cpu_seconds.empty();
  if (any_cpu) {
    out << "\n### CPU time during each target's phases (s)\n\n";
    out << "| Streams | Target | wall s |";
    for (const WatchedProcess& watched : options.watched) out << " " << watched.name << " |";
    out << " bench |\n|---:|---|---:|";
    for (std::size_t i = 0; i < options.watched.size(); ++i) out << "---:|";
    out << "---:|\n";
    for (const LevelResult& level : levels) {
      for (const TargetLevel* target : {&level.direct, &level.gateway}) {
        out << "| " << level.concurrency << " | " << (target == &level.direct ? "direct" : "gateway") << " | "
            << fixed(target->wall_seconds, 1) << " |";
        for (const WatchedProcess& watched : options.watched) {
          const auto it = target->cpu_seconds.find(watched.name);
          out << " " << (it == target->cpu_seconds.end() ? "-" : fixed(it->second, 2)) << " |";
        }
        const auto bench = target->cpu_seconds.find("bench");
        out << " " << (bench == target->cpu_seconds.end() ? "-" : fixed(bench->second, 2)) << " |\n";
      }
    }
  }

  if (!memory.empty()) {
    out << "\n### Memory (MiB)\n\n";
    out << "| Process | RSS at start | peak RSS (VmHWM) | RSS at end |\n|---|---:|---:|---:|\n";
    for (const Memory& process : memory) {
      out << "| " << process.name << " | " << mib(process.rss_start) << " | " << mib(process.hwm_end) << " | "
          << mib(process.rss_end) << " |\n";
    }
  }
  return out.str();
}

bool write_samples(const std::string& path, const std::vector<LevelResult>& levels) {
  std::ofstream file(path);
  file << "target,streams,round,connection,new_connection,start_ms,ok,ttft_ms,total_ms,tokens\n";
  for (const LevelResult& level : levels) {
    for (const TargetLevel* target : {&level.direct, &level.gateway}) {
      for (const Sample& sample : target->samples) {
        file << (target == &level.direct ? "direct" : "gateway") << ',' << level.concurrency << ','
             << sample.round << ',' << sample.connection << ',' << (sample.new_connection ? 1 : 0) << ','
             << fixed(sample.start_ms, 3) << ',' << (sample.ok ? 1 : 0) << ',' << fixed(sample.ttft_ms, 3)
             << ',' << fixed(sample.total_ms, 3) << ',' << sample.tokens << '\n';
      }
    }
  }
  return static_cast<bool>(file);
}

std::vector<std::string> request_bodies(const Options& options) {
  std::vector<std::string> bodies;
  for (int i = 0; i < options.prompts; ++i) {
    json::object body;
    body["model"] = options.model;
    const std::string prompt =
        options.prompts == 1 ? options.prompt : options.prompt + " #" + std::to_string(i);
    body["messages"] = json::array{json::object{{"role", "user"}, {"content", prompt}}};
    body["stream"] = true;
    body["stream_options"] = json::object{{"include_usage", true}};
    if (options.max_tokens > 0) body["max_tokens"] = options.max_tokens;
    bodies.push_back(json::serialize(body));
  }
  return bodies;
}

int run(const Options& options) {
  const Target direct{"direct", options.direct};
  const Target gateway{"gateway", options.gateway};
  if (!wait_until_ready({direct, gateway}, options.wait_ready)) return 1;

  const std::string started_at = utc_now();
  const std::string load_start = load_average();
  const Clock::time_point run_started = Clock::now();
  std::vector<Memory> memory;
  for (const WatchedProcess& watched : options.watched) {
    memory.push_back({watched.name, process_memory_mib(watched.pid, "VmRSS"), std::nullopt, std::nullopt});
  }

  asio::io_context io;
  const std::vector<std::string> bodies = request_bodies(options);
  std::chrono::milliseconds stagger = options.stagger.value_or(std::chrono::milliseconds(0));
  if (options.warmup > 0) {
    for (const Target* target : {&direct, &gateway}) {
      PhaseResult warm =
          Phase(io, options, *target, bodies, 10, options.warmup, std::chrono::milliseconds(0)).run();
      std::cerr << "warm-up " << target->name << ": " << warm.samples.size() << " requests, "
                << warm.errors.size() << " error kinds"
                << (warm.first_error.empty() ? "" : ": " + warm.first_error) << "\n";
      if (std::none_of(warm.samples.begin(), warm.samples.end(), [](const Sample& s) { return s.ok; })) {
        std::cerr << "rally-llm-stream-bench: every warm-up request to " << target->name << " failed\n";
        return 1;
      }
      if (target == &direct && !options.stagger) {
        std::vector<double> totals;
        for (const Sample& sample : warm.samples) {
          if (sample.ok) totals.push_back(sample.total_ms);
        }
        stagger = std::chrono::milliseconds(std::llround(percentile(totals, 50)));
      }
    }
  }

  std::vector<LevelResult> levels;
  for (std::size_t level_index = 0; level_index < options.concurrency.size(); ++level_index) {
    LevelResult level;
    level.concurrency = options.concurrency[level_index];
    level.requests = requests_for_level(options, level_index);
    for (int round = 0; round < options.rounds; ++round) {
      // Spread the level's requests over the rounds; the last one takes the remainder.
      const int share = level.requests / options.rounds +
                        (round == options.rounds - 1 ? level.requests % options.rounds : 0);
      if (share == 0) continue;
      const bool direct_first = round % 2 == 0;
      for (const Target* target : {direct_first ? &direct : &gateway, direct_first ? &gateway : &direct}) {
        std::this_thread::sleep_for(options.pause);
        std::cerr << level.concurrency << " streams, round " << round + 1 << "/" << options.rounds << ", "
                  << target->name << ": " << share << " requests" << std::flush;
        PhaseResult phase = Phase(io, options, *target, bodies, level.concurrency, share, stagger).run();
        for (Sample& sample : phase.samples) sample.round = round + 1;
        std::cerr << " in " << fixed(phase.wall_seconds, 1) << " s"
                  << (phase.first_error.empty() ? "" : ", first error: " + phase.first_error) << "\n";
        (target == &direct ? level.direct : level.gateway).add(std::move(phase));
      }
    }
    levels.push_back(std::move(level));
  }
  count_mismatches(levels);
  if (!options.samples_file.empty() && !write_samples(options.samples_file, levels)) {
    std::cerr << "rally-llm-stream-bench: cannot write " << options.samples_file << "\n";
    return 1;
  }

  for (std::size_t i = 0; i < options.watched.size(); ++i) {
    memory[i].hwm_end = process_memory_mib(options.watched[i].pid, "VmHWM");
    memory[i].rss_end = process_memory_mib(options.watched[i].pid, "VmRSS");
  }
  const std::string report =
      render_report(options, levels, memory, stagger, started_at, load_start, load_average(),
                    std::chrono::duration<double>(Clock::now() - run_started).count());
  if (!publish_report(report, options.output, "rally-llm-stream-bench")) return 1;
  for (const LevelResult& level : levels) {
    if (level.direct.error_count() > 0 || level.gateway.error_count() > 0) return 3;
  }
  return 0;
}

}  // namespace
}  // namespace rally::bench

int main(int argc, char** argv) {
  rally::bench::Options options;
  return rally::bench::bench_main(
      "rally-llm-stream-bench", rally::bench::kUsage,
      [&] { options = rally::bench::parse_options(argc, argv); }, [&] { return rally::bench::run(options); });
}
