// Reads an OpenAI chat-completion stream (Server-Sent Events) as its bytes arrive, for the benchmark
// client. Pure: no sockets and no clocks, so the caller decides when "now" is (the time of the read that
// delivered the bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rally::bench {

class OpenAiStreamReader {
 public:
  // Feeds the next bytes of the response body, in any split. Returns true when these bytes carried the
  // stream's first non-empty content delta (the role chunk's empty content does not count).
  bool feed(std::string_view bytes);

  // True once `data: [DONE]` arrived.
  bool done() const { return done_; }
  // The first problem: an error chunk's message, a chunk that is not JSON, or data after [DONE].
  const std::optional<std::string>& error() const { return error_; }
  bool content_seen() const { return content_events_ > 0; }
  std::uint64_t content_events() const { return content_events_; }
  // completion_tokens of the usage chunk (sent with stream_options.include_usage), if one arrived.
  std::optional<std::uint64_t> completion_tokens() const { return completion_tokens_; }
  // FNV-1a 64 of the concatenated content, to check that two paths produced the same text.
  std::uint64_t text_hash() const { return text_hash_; }
  std::uint64_t text_bytes() const { return text_bytes_; }

 private:
  // Returns true when the event carried content.
  bool on_line(std::string_view line);
  bool on_event(std::string_view data);
  void fail(std::string message);

  std::string pending_;  // bytes after the last complete line
  std::string data_;     // data lines of the event being read
  bool has_data_ = false;
  bool done_ = false;
  std::optional<std::string> error_;
  std::uint64_t content_events_ = 0;
  std::optional<std::uint64_t> completion_tokens_;
  std::uint64_t text_hash_ = 14695981039346656037ULL;
  std::uint64_t text_bytes_ = 0;
};

}  // namespace rally::bench
