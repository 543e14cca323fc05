// The OpenAI wire format, client side: request bodies field by field in both dialects, headers, the
// stream decoder on every kind of chunk (also split at every byte), whole responses and error bodies.
#include "services/llm-proxy/provider/openai_codec.h"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/unit/llm-proxy/provider/codec_checks.h"

namespace rally::llm_proxy {
namespace {

namespace json = boost::json;
using namespace testing;  // codec_checks.h
using namespace std::chrono_literals;

ChatCompletion conversation() {
  ChatCompletion completion;
  completion.upstream_model = "gpt-4o";
  completion.turns = {{ChatRole::kSystem, "You are terse."},
                      {ChatRole::kUser, "Name three rivers."},
                      {ChatRole::kAssistant, "Nile, Amazon, Yangtze."},
                      {ChatRole::kUser, "Two more."}};
  completion.temperature = 0.7;
  completion.top_p = 0.9;
  completion.max_tokens = 256;
  completion.stop = {"\n\n", "END"};
  completion.stream = false;
  return completion;
}

json::object body_of(const ChatCompletion& completion, OpenAiDialect dialect = OpenAiDialect::kOpenAi) {
  return json::parse(openai_request_body(completion, dialect)).as_object();
}

// A stream as OpenAI (and the simulator) sends it with include_usage.
constexpr std::string_view kStream =
    "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bright river\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" caf\xC3\xA9s\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}"
    "\n\n"
    "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":57,\"total_tokens\":65}}\n\n"
    "data: [DONE]\n\n";

std::string chunk_with(std::string_view choice_fields) {
  return "data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0," + std::string(choice_fields) + "}]}\n\n";
}

TEST_CASE("openai_request_body carries every turn and parameter, and nothing else") {
  const json::object body = body_of(conversation());
  CHECK(keys_of(body) == std::vector<std::string>{"model", "messages", "temperature", "top_p",
                                                  "max_completion_tokens", "stop"});
  CHECK(body.at("model") == "gpt-4o");
  CHECK(body.at("messages") == messages({{"system", "You are terse."},
                                         {"user", "Name three rivers."},
                                         {"assistant", "Nile, Amazon, Yangtze."},
                                         {"user", "Two more."}}));
  CHECK(body.at("temperature").as_double() == 0.7);
  CHECK(body.at("top_p").as_double() == 0.9);
  CHECK(body.at("max_completion_tokens").to_number<int>() == 256);
  CHECK(body.at("stop") == json::array{"\n\n", "END"});
}

TEST_CASE("The compatible dialect names the token limit max_tokens") {
  const json::object body = body_of(conversation(), OpenAiDialect::kCompatible);
  CHECK(body.at("max_tokens").to_number<int>() == 256);
  CHECK_FALSE(body.contains("max_completion_tokens"));
  // Everything else is the same as OpenAI's.
  json::object openai = body_of(conversation());
  openai.erase("max_completion_tokens");
  json::object compatible = body;
  compatible.erase("max_tokens");
  CHECK(openai == compatible);
}

TEST_CASE("openai_request_body leaves out what was not asked for") {
  ChatCompletion completion;
  completion.upstream_model = "llama3";
  completion.turns = {{ChatRole::kUser, "Hi"}};
  completion.max_tokens = 64;
  completion.stream = false;
  SECTION("no temperature, top_p, stop, response_format or stream fields") {
    CHECK(keys_of(body_of(completion)) ==
          std::vector<std::string>{"model", "messages", "max_completion_tokens"});
  }
  SECTION("a temperature that is not a finite number is not sent (it would not be valid JSON)") {
    completion.temperature = std::numeric_limits<double>::quiet_NaN();
    completion.top_p = std::numeric_limits<double>::infinity();
    CHECK(keys_of(body_of(completion)) ==
          std::vector<std::string>{"model", "messages", "max_completion_tokens"});
  }
  SECTION("a temperature of zero is sent") {
    completion.temperature = 0.0;
    CHECK(body_of(completion).at("temperature").as_double() == 0.0);
  }
}

TEST_CASE("A streaming request asks for the usage chunk") {
  ChatCompletion completion = conversation();
  completion.stream = true;
  const json::object body = body_of(completion);
  CHECK(body.at("stream") == true);
  CHECK(body.at("stream_options") == json::object{{"include_usage", true}});
}

TEST_CASE("JSON mode sends response_format json_object and makes sure a message mentions JSON") {
  ChatCompletion completion;
  completion.upstream_model = "gpt-4o";
  completion.json_mode = true;
  completion.stream = false;
  SECTION("a conversation that asks for JSON is sent as it is") {
    completion.turns = {{ChatRole::kUser, "Rate this answer; reply in Json with a score."}};
    const json::object body = body_of(completion);
    CHECK(body.at("response_format") == json::object{{"type", "json_object"}});
    CHECK(body.at("messages") == messages({{"user", "Rate this answer; reply in Json with a score."}}));
  }
  SECTION("a conversation that does not gets a system instruction first") {
    completion.turns = {{ChatRole::kSystem, "You are a critic."}, {ChatRole::kUser, "Rate this answer."}};
    const json::object body = body_of(completion);
    CHECK(body.at("response_format") == json::object{{"type", "json_object"}});
    CHECK(body.at("messages") == messages({{"system", "Respond with a single JSON object."},
                                           {"system", "You are a critic."},
                                           {"user", "Rate this answer."}}));
  }
}

TEST_CASE("openai_request_headers") {
  CHECK(openai_request_headers("sk-test", false) ==
        HttpHeaders{{"Authorization", "Bearer sk-test"}, {"Content-Type", "application/json"}});
  CHECK(openai_request_headers("sk-test", true) == HttpHeaders{{"Authorization", "Bearer sk-test"},
                                                               {"Content-Type", "application/json"},
                                                               {"Accept", "text/event-stream"}});
  // Local servers need no key: no Authorization header at all rather than "Bearer ".
  CHECK(openai_request_headers("", false) == HttpHeaders{{"Content-Type", "application/json"}});
}

TEST_CASE("OpenAiStreamDecoder: deltas, finish reason, usage and id of a whole stream") {
  check_complete(decode_stream<OpenAiStreamDecoder>(kStream),
                 {"Bright river", " caf\xC3\xA9s"},  // no role-only delta
                 {FinishReason::kStop, TokenUsage{8, 57}, "chatcmpl-abc"});
}

TEST_CASE("OpenAiStreamDecoder gives the same result however the bytes are split") {
  check_split_anywhere<OpenAiStreamDecoder>(kStream);
  SECTION("and with CRLF line endings and keep-alive comments") {
    std::string crlf = ": keep-alive\r\n\r\n";
    for (const char c : kStream) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    const auto decoded = decode_stream<OpenAiStreamDecoder>(crlf, 3);
    CHECK(decoded.text() == decode_stream<OpenAiStreamDecoder>(kStream).text());
    CHECK(decoded.finished);
  }
}

TEST_CASE("OpenAiStreamDecoder: finish reasons") {
  const auto reason_of = [](std::string_view name) {
    return decode_stream<OpenAiStreamDecoder>(
               chunk_with("\"delta\":{},\"finish_reason\":\"" + std::string(name) + "\"") +
               "data: [DONE]\n\n")
        .finish.reason;
  };
  CHECK(reason_of("stop") == FinishReason::kStop);
  CHECK(reason_of("length") == FinishReason::kLength);
  CHECK(reason_of("content_filter") == FinishReason::kContentFilter);
  CHECK(reason_of("tool_calls") == FinishReason::kToolCalls);
  CHECK(reason_of("eos") == FinishReason::kStop);  // a compatible server's own word for a normal end
  // Without a usage chunk (a server that ignores include_usage) there is no usage, and no id if none came.
  const auto bare = decode_stream<OpenAiStreamDecoder>("data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
  CHECK(bare.finished);
  CHECK_FALSE(bare.finish.usage);
  CHECK(bare.finish.upstream_id.empty());
}

TEST_CASE("OpenAiStreamDecoder skips chunks without text") {
  const std::string stream =
      chunk_with("\"delta\":{\"content\":\"\"}") + chunk_with("\"delta\":{\"content\":null}") +
      chunk_with("\"delta\":{\"role\":\"assistant\"}") + chunk_with("\"delta\":null") +
      chunk_with("\"delta\":{\"content\":\"a\"}") +
      // Choices other than 0 are not the reply (n = 1 is always asked for).
      "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"zzz\"}}]}\n\n" +
      "data: {\"choices\":null}\n\n" + chunk_with("\"delta\":{\"content\":\"b\"}") + "data: [DONE]\n\n";
  const auto decoded = decode_stream<OpenAiStreamDecoder>(stream);
  CHECK(decoded.deltas == std::vector<std::string>{"a", "b"});
  CHECK(decoded.finished);
  CHECK_FALSE(decoded.failure);
}

TEST_CASE("OpenAiStreamDecoder: an error object mid-stream is the provider's failure") {
  const std::string first = chunk_with("\"delta\":{\"content\":\"Hello\"}");
  SECTION("server_error") {
    const auto decoded = decode_stream<OpenAiStreamDecoder>(
        first +
        "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about "
        "that!\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n" +
        first);
    CHECK(decoded.deltas == std::vector<std::string>{"Hello"});
    REQUIRE(decoded.failure);
    CHECK(decoded.failure->kind == FailureKind::kServerError);
    CHECK(decoded.failure->message ==
          "The server had an error while processing your request. Sorry about that!");
    CHECK(decoded.failure->http_status == 0);
    CHECK(decoded.events_after_end == 1);
    CHECK_FALSE(decoded.finished);
  }
  SECTION("a rate limit") {
    const auto decoded = decode_stream<OpenAiStreamDecoder>(
        "data: {\"error\":{\"message\":\"Slow "
        "down\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}\n\n");
    REQUIRE(decoded.failure);
    CHECK(decoded.failure->kind == FailureKind::kRateLimited);
    CHECK(decoded.failure->message == "Slow down");
  }
  SECTION("a bare message string, as some compatible servers send") {
    const auto decoded = decode_stream<OpenAiStreamDecoder>("data: {\"error\":\"model crashed\"}\n\n");
    REQUIRE(decoded.failure);
    CHECK(decoded.failure->kind == FailureKind::kServerError);
    CHECK(decoded.failure->message == "model crashed");
  }
  SECTION("an error without a message still says something") {
    const auto decoded =
        decode_stream<OpenAiStreamDecoder>("data: {\"error\":{\"type\":\"invalid_request_error\"}}\n\n");
    REQUIRE(decoded.failure);
    CHECK(decoded.failure->kind == FailureKind::kClientError);
    CHECK_FALSE(decoded.failure->message.empty());
  }
  SECTION("\"error\": null is no error") {
    const auto decoded =
        decode_stream<OpenAiStreamDecoder>("data: {\"error\":null,\"choices\":[]}\n\ndata: [DONE]\n\n");
    CHECK_FALSE(decoded.failure);
    CHECK(decoded.finished);
  }
}

TEST_CASE("OpenAiStreamDecoder: what is not a chunk is a protocol error") {
  constexpr auto failure_of = failure_before_text<OpenAiStreamDecoder>;
  // The simulator's malformed event: a data line cut off mid-JSON.
  const ProviderFailure cut =
      failure_of("data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{\"con\n\n");
  CHECK(cut.kind == FailureKind::kProtocolError);
  CHECK(cut.message.starts_with("malformed JSON in a stream event"));
  CHECK(failure_of("data: hello\n\n").kind == FailureKind::kProtocolError);
  CHECK(failure_of("data: [1, 2]\n\n").kind == FailureKind::kProtocolError);
  CHECK(failure_of("data: {\"choices\":{}}\n\n").kind == FailureKind::kProtocolError);
  CHECK(failure_of("data: {\"choices\":[7]}\n\n").kind == FailureKind::kProtocolError);
  CHECK(failure_of(chunk_with("\"delta\":{\"content\":42}")).kind == FailureKind::kProtocolError);
  CHECK(failure_of(chunk_with("\"delta\":\"text\"")).kind == FailureKind::kProtocolError);
  CHECK(failure_of("data: {\"error\":42}\n\n").kind == FailureKind::kProtocolError);
}

TEST_CASE("parse_openai_response reads a whole chat.completion") {
  SECTION("text, finish reason, usage and id") {
    const auto result = parse_openai_response(
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o",
            "choices":[{"index":0,"message":{"role":"assistant","content":"Bright river.","refusal":null},
                        "logprobs":null,"finish_reason":"length"}],
            "usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}})");
    check_answer(result, "Bright river.", {FinishReason::kLength, TokenUsage{8, 3}, "chatcmpl-1"});
  }
  SECTION("null content (a refusal or tool call) is empty text; no usage is no usage") {
    const auto result = parse_openai_response(
        R"({"choices":[{"message":{"role":"assistant","content":null},"finish_reason":"tool_calls"}]})");
    check_answer(result, "", {FinishReason::kToolCalls, std::nullopt, ""});
  }
  SECTION("an error object") {
    const auto result = parse_openai_response(R"({"error":{"message":"nope","type":"server_error"}})");
    CHECK(std::get<ProviderFailure>(result).kind == FailureKind::kServerError);
    CHECK(std::get<ProviderFailure>(result).message == "nope");
  }
  SECTION("bodies that are not a completion") {
    check_protocol_errors(
        parse_openai_response,
        {"", "{\"id\":\"x\",\"choices\":[{\"message\":{\"con", "[]", "{}", "{\"choices\":[]}",
         "{\"choices\":[{\"message\":\"hi\"}]}", "{\"choices\":[{\"message\":{\"content\":1}}]}"});
  }
}

TEST_CASE("parse_openai_error: status to failure kind, message and Retry-After") {
  const std::string openai_body =
      R"({"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}})";
  SECTION("429 with Retry-After") {
    const ProviderFailure failure = parse_openai_error(429, openai_body, {{"Retry-After", "1.5"}});
    CHECK(failure.kind == FailureKind::kRateLimited);
    CHECK(failure.http_status == 429);
    CHECK(failure.message == "Rate limit reached for gpt-4o");
    CHECK(failure.retry_after == 1500ms);
    CHECK_FALSE(failure.output_sent);
  }
  SECTION("a Retry-After that is not a number of seconds is ignored") {
    CHECK_FALSE(
        parse_openai_error(429, openai_body, {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}).retry_after);
    CHECK_FALSE(parse_openai_error(429, openai_body, {}).retry_after);
  }
  SECTION("statuses") {
    CHECK(parse_openai_error(500, openai_body, {}).kind == FailureKind::kServerError);
    CHECK(parse_openai_error(502, openai_body, {}).kind == FailureKind::kServerError);
    CHECK(parse_openai_error(503, openai_body, {}).kind == FailureKind::kServerError);
    CHECK(parse_openai_error(504, openai_body, {}).kind == FailureKind::kServerError);
    CHECK(parse_openai_error(529, openai_body, {}).kind == FailureKind::kServerError);
    CHECK(parse_openai_error(408, openai_body, {}).kind == FailureKind::kTimeout);
    CHECK(parse_openai_error(400, openai_body, {}).kind == FailureKind::kClientError);
    CHECK(parse_openai_error(401, openai_body, {}).kind == FailureKind::kClientError);
    CHECK(parse_openai_error(404, openai_body, {}).kind == FailureKind::kClientError);
    CHECK(parse_openai_error(413, openai_body, {}).kind == FailureKind::kClientError);
    CHECK(parse_openai_error(302, "", {}).kind == FailureKind::kProtocolError);
  }
  SECTION("other servers' error shapes") {
    CHECK(parse_openai_error(404, R"({"error":"model 'llama9' not found"})", {}).message ==
          "model 'llama9' not found");
    CHECK(parse_openai_error(
              400,
              R"({"object":"error","message":"max_tokens too large","type":"BadRequestError","code":400})",
              {})
              .message == "max_tokens too large");
    CHECK(parse_openai_error(422, R"({"detail":"Field required"})", {}).message == "Field required");
  }
  SECTION("a body that is not JSON: the status and the start of the body") {
    const ProviderFailure failure =
        parse_openai_error(502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>", {});
    CHECK(failure.kind == FailureKind::kServerError);
    CHECK(failure.http_status == 502);
    CHECK(failure.message ==
          "the provider answered HTTP 502: <html> <head><title>502 Bad Gateway</title></head> </html>");
    CHECK(parse_openai_error(503, "", {}).message == "the provider answered HTTP 503");
    CHECK(parse_openai_error(500, "{\"error\":{}}", {}).message ==
          "the provider answered HTTP 500: {\"error\":{}}");
  }
  SECTION("a long or invalid UTF-8 body is quoted short and valid") {
    const ProviderFailure failure = parse_openai_error(500, std::string(5000, 'x') + "\xFF", {});
    CHECK(failure.message.size() < 300);
    CHECK(failure.message.ends_with("..."));
    CHECK(parse_openai_error(500, "bad \xC3 byte", {}).message ==
          "the provider answered HTTP 500: bad \xEF\xBF\xBD byte");
  }
}

}  // namespace
}  // namespace rally::llm_proxy
