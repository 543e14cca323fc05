// Slow streams are timers, not threads: one or two I/O threads carry hundreds of paced streams at once.
#include <fcntl.h>
#include <poll.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "services/llm-proxy/simulator/simulator_engine.h"
#include "services/llm-proxy/simulator/simulator_server.h"
#include "services/llm-proxy/simulator/simulator_settings.h"
#include "tests/unit/llm-proxy/simulator/raw_http_client.h"

namespace sim = rally::llm_simulator;
using rally::llm_simulator::testing::Connection;
using rally::llm_simulator::testing::parse_response;
using rally::llm_simulator::testing::request_text;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Each stream: 20 tokens at 20 tokens/s after a 200 ms TTFT, so the last token is due at 1.15 s.
constexpr int kTokens = 20;
constexpr milliseconds kStreamDuration{200 + (kTokens - 1) * 50};

struct Stream {
  std::unique_ptr<Connection> connection;
  std::string received;
  bool done = false;
};

// Opens `count` streams, then reads all of them with poll() until every one has ended; returns how long
// that took from the first request.
milliseconds run_streams(int port, int count, std::vector<Stream>& streams) {
  const std::string body = R"({"model": "gpt-4o", "stream": true, "max_tokens": )" + std::to_string(kTokens) +
                           R"(, "messages": [{"role": "user", "content": "Write at length about rivers."}]})";
  const std::string request = request_text(
      "POST", "/v1/chat/completions",
      {{"Authorization", "Bearer sk-load"}, {"x-sim-ttft-ms", "200"}, {"x-sim-tokens-per-second", "20"}},
      body);
  const auto start = SteadyClock::now();
  streams.resize(static_cast<std::size_t>(count));
  for (Stream& stream : streams) {
    stream.connection = std::make_unique<Connection>(port);
    stream.connection->send(request);
  }
  std::size_t remaining = streams.size();
  const auto deadline = start + std::chrono::seconds(30);
  while (remaining > 0 && SteadyClock::now() < deadline) {
    std::vector<pollfd> fds;
    std::vector<Stream*> owners;
    for (Stream& stream : streams) {
      if (stream.done) continue;
      fds.push_back({stream.connection->native_handle(), POLLIN, 0});
      owners.push_back(&stream);
    }
    if (::poll(fds.data(), fds.size(), 1000) <= 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[16384];
      const long n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
      Stream& stream = *owners[i];
      if (n > 0) stream.received.append(buffer, static_cast<std::size_t>(n));
      const bool ended = n <= 0 || stream.received.ends_with("0\r\n\r\n");
      if (ended && !stream.done) {
        stream.done = true;
        --remaining;
      }
    }
  }
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

void check_streams(const std::vector<Stream>& streams) {
  int complete = 0;
  for (const Stream& stream : streams) {
    const auto response = parse_response(stream.received);
    if (response && response->status == 200 && response->complete &&
        response->body.ends_with("data: [DONE]\n\n") &&
        response->body.find(R"("finish_reason":"length")") != std::string::npos) {
      ++complete;
    }
  }
  CHECK(complete == static_cast<int>(streams.size()));
}

}  // namespace

TEST_CASE("one I/O thread holds 500 concurrent slow streams") {
  sim::SimulatorSettings settings;
  settings.listen = {"127.0.0.1", 0};
  settings.threads = 1;
  sim::SimulatorServer server(settings);

  std::vector<Stream> streams;
  const milliseconds elapsed = run_streams(server.port(), 500, streams);
  check_streams(streams);
  // One after another they would take 500 x 1.15 s; at once, barely more than one stream.
  CHECK(elapsed >= kStreamDuration);
  CHECK(elapsed < milliseconds(15000));

  const auto log = boost::json::parse(server.engine().request_log().to_json()).as_array();
  REQUIRE(log.size() == 500);
  for (const auto& entry : log) {
    CHECK(entry.at("outcome").as_string() == "completed");
    CHECK(entry.at("chunks_sent").as_int64() >= kTokens / 3);
  }
}

TEST_CASE("two I/O threads serve concurrent streams on per-connection strands") {
  sim::SimulatorSettings settings;
  settings.listen = {"127.0.0.1", 0};
  settings.threads = 2;
  sim::SimulatorServer server(settings);
  std::vector<Stream> streams;
  const milliseconds elapsed = run_streams(server.port(), 200, streams);
  check_streams(streams);
  CHECK(elapsed < milliseconds(12000));
}
