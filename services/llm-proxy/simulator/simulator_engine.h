// What the simulator answers, decided without sockets: a request goes in, an Exchange comes out that says
// which bytes to send and when (after a stall, at each token's due time), and how the connection ends.
// The server (simulator_server.cc) only carries Exchanges out, so everything a test could ask about the
// wire format, auth, faults and pacing is decided here. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/llm-proxy/simulator/fault_plan.h"
#include "services/llm-proxy/simulator/request_log.h"
#include "services/llm-proxy/simulator/simulator_settings.h"

namespace rally::llm_simulator {

struct HttpRequest {
  std::string method;                                        // "POST"
  std::string target;                                        // "/v1/chat/completions?x=y"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in arrival order
  std::string body;

  // The first value of the header, nullptr when absent.
  const std::string* find_header(std::string_view lower_name) const;
};

struct StreamEvent {
  std::string bytes;                 // one complete server-sent event
  std::chrono::microseconds due{0};  // counted from the start of the response (after any stall)
  bool content = false;              // a content delta: counted in chunks_sent and by *_after_chunks faults
};

struct Exchange {
  // Nothing is sent for this long after the request was read.
  std::chrono::milliseconds stall{0};
  // False: after `due`, close the connection without any response (a dropped non-streaming request).
  bool respond = true;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length/Transfer-Encoding
  // A complete response: `body`, sent once `due` has passed.
  std::string body;
  std::chrono::microseconds due{0};
  // A stream: the head at once, then each event as one chunk at its due time, then the last chunk.
  bool streaming = false;
  std::vector<StreamEvent> events;
  // After the last event, close the TCP connection instead of ending the chunked body.
  bool drop_after_events = false;
  // Close the connection after the response even if the client asked to keep it.
  bool close_connection = false;
  std::string fault;         // kind of the fault applied, empty for none
  std::uint64_t log_id = 0;  // the request log entry to update, 0 for requests that are not logged

  // The outcome recorded when the exchange runs to its planned end.
  std::string planned_outcome() const { return fault.empty() ? "completed" : "fault:" + fault; }
};

class SimulatorEngine {
 public:
  explicit SimulatorEngine(const SimulatorSettings& settings);
  ~SimulatorEngine();
  SimulatorEngine(const SimulatorEngine&) = delete;
  SimulatorEngine& operator=(const SimulatorEngine&) = delete;

  // Any request that was read completely. `now` stamps the response ("created") and the request log.
  Exchange handle(const HttpRequest& request, std::chrono::system_clock::time_point now);

  // A request that could not be read: 400 (malformed HTTP), 413 (body too large), 431 (head too large).
  // The error is in the format of the provider whose path `target` names; the connection is closed after.
  Exchange reject(std::string_view target, int status) const;

  // Progress of a logged exchange, reported by the server as it happens.
  void on_chunk_sent(std::uint64_t log_id);
  void on_finished(std::uint64_t log_id, std::string_view outcome, std::chrono::system_clock::time_point now);

  RequestLog& request_log();
  FaultPlan& faults();
  const SimulatorSettings& settings() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rally::llm_simulator
