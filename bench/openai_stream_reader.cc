#include "bench/openai_stream_reader.h"

#include <boost/json.hpp>
#include <utility>

namespace rally::bench {
namespace {

namespace json = boost::json;

constexpr std::uint64_t kFnvPrime = 1099511628211ULL;

}  // namespace

bool OpenAiStreamReader::feed(std::string_view bytes) {
  bool first_content = false;
  pending_.append(bytes);
  std::size_t start = 0;
  for (std::size_t end = pending_.find('\n', start); end != std::string::npos;
       end = pending_.find('\n', start)) {
    std::string_view line(pending_.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool had_content = content_seen();
    if (on_line(line) && !had_content) first_content = true;
    start = end + 1;
  }
  pending_.erase(0, start);
  return first_content;
}

bool OpenAiStreamReader::on_line(std::string_view line) {
  if (line.empty()) {  // the blank line ends an event
    if (!has_data_) return false;
    has_data_ = false;
    const bool content = on_event(data_);
    data_.clear();
    return content;
  }
  if (line.front() == ':') return false;  // a comment (heartbeat)
  if (line.substr(0, 5) != "data:") return false;
  line.remove_prefix(5);
  if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (has_data_) data_.push_back('\n');
  data_.append(line);
  has_data_ = true;
  return false;
}

bool OpenAiStreamReader::on_event(std::string_view data) {
  if (done_) {
    fail("data after [DONE]");
    return false;
  }
  if (data == "[DONE]") {
    done_ = true;
    return false;
  }
  boost::system::error_code ec;
  const json::value chunk = json::parse(data, ec);
  if (ec || !chunk.is_object()) {
    fail("a chunk that is not a JSON object: " + std::string(data.substr(0, 200)));
    return false;
  }
  const json::object& object = chunk.get_object();
  if (const json::value* error = object.if_contains("error")) {
    const json::value* message = error->is_object() ? error->get_object().if_contains("message") : nullptr;
    fail("error chunk: " + (message != nullptr && message->is_string() ? std::string(message->get_string())
                                                                       : json::serialize(*error)));
    return false;
  }
  if (const json::value* usage = object.if_contains("usage"); usage != nullptr && usage->is_object()) {
    if (const json::value* tokens = usage->get_object().if_contains("completion_tokens")) {
      if (tokens->is_int64() && tokens->get_int64() >= 0) {
        completion_tokens_ = static_cast<std::uint64_t>(tokens->get_int64());
      } else if (tokens->is_uint64()) {
        completion_tokens_ = tokens->get_uint64();
      }
    }
  }
  const json::value* choices = object.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) return false;
  const json::value& choice = choices->get_array().front();
  const json::value* delta = choice.is_object() ? choice.get_object().if_contains("delta") : nullptr;
  const json::value* content =
      delta != nullptr && delta->is_object() ? delta->get_object().if_contains("content") : nullptr;
  if (content == nullptr || !content->is_string() || content->get_string().empty()) return false;
  for (const char c : content->get_string()) {
    text_hash_ = (text_hash_ ^ static_cast<unsigned char>(c)) * kFnvPrime;
  }
  text_bytes_ += content->get_string().size();
  ++content_events_;
  return true;
}

void OpenAiStreamReader::fail(std::string message) {
  if (!error_) error_ = std::move(message);
}

}  // namespace rally::bench
