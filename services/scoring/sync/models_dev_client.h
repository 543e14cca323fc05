// One conditional GET of models.dev's api.json: If-None-Match and If-Modified-Since from the last good
// response, a bound on the whole call, a cap on the body, and the body parsed before it counts as a
// document. HTTPS with the system's CAs, or plain HTTP for local servers (the LLM simulator serves
// GET /api.json in tests, docs/llm-simulator.md). The HTTP client stays behind a pointer, so including this
// costs no Beast.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "services/common/errors.h"
#include "services/scoring/domain/model_catalog.h"

namespace rally::llm_proxy {
class HttpClient;
}

namespace rally::scoring {

// api.json is about 2 MiB; a body far beyond that is a broken upstream, not a bigger catalog.
inline constexpr std::uint64_t kMaxModelsDevBodyBytes = std::uint64_t{32} << 20;

// What the last good response said about its document, sent back to ask "changed since?". Either may be
// empty; with both empty the request is unconditional.
struct ModelsDevValidators {
  std::string etag;           // the ETag as received (quoted, maybe W/): sent as If-None-Match
  std::string last_modified;  // the Last-Modified as received: sent as If-Modified-Since

  bool empty() const { return etag.empty() && last_modified.empty(); }
  bool operator==(const ModelsDevValidators&) const = default;
};

struct ModelsDevResponse {
  // false: 304 Not Modified, the document is the one the validators came from; body and catalog are empty.
  bool modified = false;
  std::string body;
  ModelCatalog catalog;  // parse_models_dev(body), holding at least one model
  // The new document's validators, or for a 304 those it repeated (else the ones sent).
  ModelsDevValidators validators;
};

class ModelsDevClient {
 public:
  // `url`: an absolute http:// or https:// URL. Starts one I/O thread.
  explicit ModelsDevClient(std::string url, std::uint64_t max_body_bytes = kMaxModelsDevBodyBytes);
  ~ModelsDevClient();
  ModelsDevClient(const ModelsDevClient&) = delete;
  ModelsDevClient& operator=(const ModelsDevClient&) = delete;

  // Blocks for at most `timeout` (connect, TLS, response and body together; positive). Errors:
  // kApiTimeout when time ran out; kUpstreamError for a connection or TLS failure, a status other than 200
  // and 304 (or a 304 to an unconditional request), a body over the cap, or a body that is not a models.dev
  // document with at least one model; kServiceUnavailable after shutdown(). Any thread; fetches may overlap.
  common::Result<ModelsDevResponse> fetch(const ModelsDevValidators& previous,
                                          std::chrono::milliseconds timeout);

  // Ends the fetches in progress at once and refuses later ones, so an owner can stop without waiting for a
  // slow upstream. Any thread.
  void shutdown();

  const std::string& url() const { return url_; }

 private:
  const std::string url_;
  const std::uint64_t max_body_bytes_;
  std::unique_ptr<llm_proxy::HttpClient> http_;
  std::mutex mutex_;
  bool shut_down_ = false;
  std::uint64_t next_call_ = 0;
  // The fetches in progress, to cancel them on shutdown (HttpCall is only a weak handle).
  std::map<std::uint64_t, std::function<void()>> cancel_in_progress_;
};

}  // namespace rally::scoring
