// Cancellation: HttpCall::cancel() from any thread and at any stage, and the client's destructor.
#include <catch2/catch.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "services/llm-proxy/http/http_client.h"
#include "tests/unit/llm-proxy/http/call_recorder.h"
#include "tests/unit/llm-proxy/http/test_server.h"

namespace rally::llm_proxy {
namespace {

using namespace testing;

TEST_CASE("cancel() closes the upstream connection at once and ends with kCancelled") {
  std::atomic<bool> server_saw_close{false};
  TestServer server([&](ServerConnection& connection) {
    auto request = connection.read_request();
    if (!request) {
      return;
    }
    connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    if (request->target == "/stall") {
      connection.write(chunk("data: first\n\n"));
      server_saw_close = connection.wait_for_close(5s);
    } else {  // /firehose: events until the client goes away
      const auto until = Clock::now() + 5s;
      while (Clock::now() < until && connection.write(chunk("data: token\n\n"))) {
        connection.pause(2ms);
      }
      server_saw_close = Clock::now() < until;
    }
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();

  SECTION("from another thread while the upstream stalls") {
    const HttpCall call = client.start(get(server.url("/stall")), recorder->handler());
    REQUIRE(eventually([&] { return recorder->body_calls() == 1; }));
    const auto cancelled_at = Clock::now();
    call.cancel();
    REQUIRE(eventually([&] { return server_saw_close.load(); }, 2s));
    CHECK(Clock::now() - cancelled_at < 2s);
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
    CHECK(recorder->error()->body_delivered);
  }
  SECTION("from inside on_body: no further on_body") {
    HttpCall call;
    std::mutex call_mutex;
    recorder->after_body = [&](std::string_view) {
      const std::lock_guard lock(call_mutex);
      call.cancel();
    };
    {
      const std::lock_guard lock(call_mutex);
      call = client.start(get(server.url("/firehose")), recorder->handler());
    }
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
    CHECK(recorder->body_calls() == 1);
    CHECK(eventually([&] { return server_saw_close.load(); }, 2s));
  }
  SECTION("before the call got anywhere") {
    const HttpCall call = client.start(get(server.url("/stall")), recorder->handler());
    call.cancel();
    REQUIRE(recorder->wait());
    CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
    CHECK_FALSE(recorder->error()->head_delivered);
  }
  SECTION("is idempotent, and a no-op once the call finished") {
    const HttpCall call = client.start(get(server.url("/stall")), recorder->handler());
    REQUIRE(eventually([&] { return recorder->body_calls() == 1; }));
    call.cancel();
    call.cancel();
    REQUIRE(recorder->wait());
    call.cancel();
    HttpCall().cancel();  // an empty handle does nothing either
  }
  // Exactly one on_complete, and it came last.
  std::this_thread::sleep_for(20ms);
  CHECK(recorder->completions() == 1);
  CHECK(recorder->events().back() == "complete");
}

TEST_CASE("on_start hands over the call before any I/O, so the first callback can cancel it") {
  std::atomic<bool> server_saw_close{false};
  TestServer server([&](ServerConnection& connection) {
    if (!connection.read_request()) return;
    connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const auto until = Clock::now() + 5s;
    while (Clock::now() < until && connection.write(chunk("data: token\n\n"))) connection.pause(2ms);
    server_saw_close = Clock::now() < until;
  });
  HttpClient client(one_thread());
  auto recorder = make_recorder();
  // No lock and no waiting for start() to return: on_start has run before any callback can.
  std::optional<HttpCall> handed_over;
  bool started_before_return = false;
  HttpResponseHandler handler = recorder->handler();
  handler.on_start = [&](const HttpCall& call) { handed_over = call; };
  auto on_body = std::move(handler.on_body);
  handler.on_body = [&, on_body](std::string_view chunk_text) {
    on_body(chunk_text);
    handed_over->cancel();
  };
  client.start(get(server.url("/firehose")), std::move(handler));
  started_before_return = handed_over.has_value();
  CHECK(started_before_return);
  REQUIRE(recorder->wait());
  CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
  CHECK(recorder->body_calls() == 1);
  CHECK(eventually([&] { return server_saw_close.load(); }, 2s));
}

TEST_CASE("cancel() racing the call at every stage still ends it exactly once") {
  TestServer server([&](ServerConnection& connection) {
    while (auto request = connection.read_request(2s)) {
      connection.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      connection.write(chunk("data: a\n\n"));
      connection.write(chunk("data: b\n\n") + "0\r\n\r\n");
    }
  });
  HttpClientOptions options;
  options.threads = 2;
  HttpClient client(options);

  constexpr int kCalls = 60;
  std::vector<std::shared_ptr<CallRecorder>> recorders;
  for (int i = 0; i < kCalls; ++i) {
    recorders.push_back(make_recorder());
    const HttpCall call = client.start(get(server.url("/race")), recorders.back()->handler());
    // From "before it started" to "long after it finished".
    std::this_thread::sleep_for(std::chrono::microseconds((i % 12) * 150));
    call.cancel();
  }
  int cancelled = 0;
  for (const auto& recorder : recorders) {
    REQUIRE(recorder->wait());
    const auto kind = recorder->error_kind();
    CHECK((!kind || kind == HttpErrorKind::kCancelled));
    cancelled += kind == HttpErrorKind::kCancelled ? 1 : 0;
    if (!kind) {
      CHECK(recorder->body() == "data: a\n\ndata: b\n\n");
    }
  }
  std::this_thread::sleep_for(20ms);
  for (const auto& recorder : recorders) {
    CHECK(recorder->completions() == 1);
    CHECK(recorder->events().back() == "complete");
  }
  CHECK(cancelled > 0);
}

TEST_CASE("destroying the client cancels calls in flight and closes their connections") {
  std::atomic<bool> request_arrived{false};
  std::atomic<bool> server_saw_close{false};
  TestServer server([&](ServerConnection& connection) {
    if (connection.read_request()) {
      request_arrived = true;
      server_saw_close = connection.wait_for_close(5s);
    }
  });
  auto recorder = make_recorder();
  {
    HttpClient client(one_thread());
    client.start(get(server.url("/slow")), recorder->handler());
    REQUIRE(eventually([&] { return request_arrived.load(); }));
  }
  CHECK(recorder->completions() == 1);
  CHECK(recorder->error_kind() == HttpErrorKind::kCancelled);
  CHECK(eventually([&] { return server_saw_close.load(); }, 2s));
}

TEST_CASE("a call started from on_complete while the client shuts down is cancelled, not lost") {
  std::atomic<bool> request_arrived{false};
  TestServer server([&](ServerConnection& connection) {
    if (connection.read_request()) {
      request_arrived = true;
      connection.wait_for_close(5s);
    }
  });
  auto follow_up = make_recorder();
  {
    HttpClient client(one_thread());
    HttpResponseHandler first;
    first.on_complete = [&client, &server, follow_up](std::optional<HttpError>) {
      client.start(get(server.url("/again")), follow_up->handler());
    };
    client.start(get(server.url("/slow")), std::move(first));
    REQUIRE(eventually([&] { return request_arrived.load(); }));
  }
  CHECK(follow_up->completions() == 1);
  CHECK(follow_up->error_kind() == HttpErrorKind::kCancelled);
}

}  // namespace
}  // namespace rally::llm_proxy
