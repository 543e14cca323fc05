// An incremental parser for text/event-stream (the WHATWG "server-sent events" algorithm), fed with
// whatever bytes a read returned: events split across reads, multi-line data, comments, and any mix of
// \r\n, \n and \r line endings (including a \r\n split between two reads) all parse the same as if the
// stream had arrived in one piece. Pure: no I/O, no allocation beyond the pending event.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rally::llm_proxy {

struct SseEvent {
  std::string type = "message";  // the `event:` field, "message" when absent
  std::string data;              // `data:` lines joined with \n
  std::string id;                // the last `id:` seen on the stream so far
  std::optional<long> retry_ms;  // `retry:` when given in this event

  bool operator==(const SseEvent&) const = default;
};

class SseParser {
 public:
  // Bounds a single line and a single event so a hostile or broken upstream cannot grow memory without
  // limit; exceeding either puts the parser in the failed state.
  explicit SseParser(std::size_t max_event_bytes = 4 * 1024 * 1024);

  // Parses `bytes` and appends every event completed by them to `out`. Returns false (and stays failed)
  // once an event exceeds the size limit.
  bool feed(std::string_view bytes, std::vector<SseEvent>& out);

  // Comment lines (": keep-alive") seen so far; upstreams use them as heartbeats.
  std::size_t comments_seen() const { return comments_seen_; }
  bool failed() const { return failed_; }
  // True when bytes of an unfinished event are buffered: at end of stream, such an event is discarded
  // (per the specification), and a caller may want to report a truncated stream.
  bool has_partial_event() const { return !line_.empty() || has_fields_; }

 private:
  void process_line(std::string_view line, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);

  std::size_t max_event_bytes_;
  std::string line_;       // the line being assembled
  bool after_cr_ = false;  // the previous byte was \r, so a following \n belongs to the same line ending
  bool at_stream_start_ = true;
  bool failed_ = false;

  // The event being assembled.
  std::string type_;
  std::string data_;
  std::string last_id_;
  std::optional<long> retry_ms_;
  bool has_fields_ = false;
  std::size_t event_bytes_ = 0;
  std::size_t comments_seen_ = 0;
};

}  // namespace rally::llm_proxy
