#include "services/llm-proxy/domain/sse_parser.h"

#include <charconv>

namespace rally::llm_proxy {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

SseParser::SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

bool SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (failed_) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\r' && c != '\n') {
      after_cr_ = false;
      continue;
    }
    if (c == '\n' && after_cr_) {
      // Second half of a \r\n whose \r ended the previous line (possibly in the previous read).
      after_cr_ = false;
      start = i + 1;
      continue;
    }
    after_cr_ = c == '\r';
    line_.append(bytes.substr(start, i - start));
    process_line(line_, out);
    line_.clear();
    start = i + 1;
    if (failed_) return false;
  }
  line_.append(bytes.substr(start));
  if (line_.size() + event_bytes_ > max_event_bytes_) failed_ = true;
  return !failed_;
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (at_stream_start_) {
    at_stream_start_ = false;
    if (line.starts_with(kByteOrderMark)) line.remove_prefix(kByteOrderMark.size());
  }
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') {
    ++comments_seen_;
    return;
  }
  event_bytes_ += line.size();
  if (event_bytes_ > max_event_bytes_) {
    failed_ = true;
    return;
  }
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);

  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_fields_ = true;
  } else if (field == "event") {
    type_.assign(value);
    has_fields_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    has_fields_ = true;
  } else if (field == "retry") {
    long parsed = 0;
    if (all_digits(value) &&
        std::from_chars(value.data(), value.data() + value.size(), parsed).ec == std::errc()) {
      retry_ms_ = parsed;
    }
    has_fields_ = true;
  }
  // Any other field is ignored, as the specification requires.
}

void SseParser::dispatch(std::vector<SseEvent>& out) {
  // An event with no data is not dispatched (the specification's rule); its type is reset all the same.
  if (!data_.empty()) {
    data_.pop_back();  // the \n appended after the last data line
    SseEvent event;
    if (!type_.empty()) event.type = std::move(type_);
    event.data = std::move(data_);
    event.id = last_id_;
    event.retry_ms = retry_ms_;
    out.push_back(std::move(event));
  }
  type_.clear();
  data_.clear();
  retry_ms_.reset();
  has_fields_ = false;
  event_bytes_ = 0;
}

}  // namespace rally::llm_proxy
