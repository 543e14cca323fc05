#include "services/common/redis_client.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "services/common/digest.h"

namespace rally::common {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(milliseconds duration) {
  return timeval{static_cast<time_t>(duration.count() / 1000),
                 static_cast<suseconds_t>(duration.count() % 1000 * 1000)};
}

// hiredis writes with write(2), and writing to a connection the server has closed raises SIGPIPE, which
// kills the process by default. The process-wide disposition is not a library's to change, so, like libpq,
// block SIGPIPE on this thread during the I/O and discard one that the I/O raised.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_mask_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec no_wait{};
      sigtimedwait(&sigpipe_, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t sigpipe_{};
  sigset_t previous_mask_{};
  bool was_pending_ = false;
};

RedisReply convert(const redisReply& reply) {
  RedisReply result;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      result.type = RedisReply::Type::kString;
      result.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      result.type = RedisReply::Type::kStatus;
      result.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      result.type = RedisReply::Type::kError;
      result.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      result.type = RedisReply::Type::kInteger;
      result.integer = reply.integer;
      break;
    case REDIS_REPLY_ARRAY:
      result.type = RedisReply::Type::kArray;
      result.elements.reserve(reply.elements);
      for (std::size_t i = 0; i < reply.elements; ++i) {
        result.elements.push_back(convert(*reply.element[i]));
      }
      break;
    default:
      result.type = RedisReply::Type::kNil;
      break;
  }
  return result;
}

std::string_view view(const redisReply& reply) {
  return {reply.str, reply.len};
}

// Sends one command on a blocking context and waits for its reply (bounded by the socket timeouts).
RedisReply execute(redisContext& context, const std::vector<std::string>& args,
                   const RedisSettings& settings) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* raw = nullptr;
  int error_number = 0;
  {
    SigpipeGuard guard;
    errno = 0;
    raw = redisCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data());
    error_number = errno;
  }
  if (raw == nullptr) {
    const std::string address = settings.address.to_string();
    // A blocking hiredis context reports SO_RCVTIMEO expiring as an I/O error with EAGAIN.
    if (context.err == REDIS_ERR_IO && (error_number == EAGAIN || error_number == EWOULDBLOCK)) {
      throw RedisUnavailable("Redis at " + address + " did not answer " + args.front() + " within " +
                             std::to_string(settings.command_timeout.count()) + "ms");
    }
    throw RedisUnavailable("Redis at " + address + " failed during " + args.front() + ": " + context.errstr);
  }
  const ReplyPtr reply(static_cast<redisReply*>(raw));
  return convert(*reply);
}

// Opens a connection with the command timeout applied to every read and write, authenticated if needed.
ContextPtr connect(const RedisSettings& settings) {
  const std::string address = settings.address.to_string();
  ContextPtr context(redisConnectWithTimeout(settings.address.host.c_str(), settings.address.port,
                                             to_timeval(settings.connect_timeout)));
  if (context == nullptr) {
    throw RedisUnavailable("cannot connect to Redis at " + address + ": out of memory");
  }
  if (context->err != 0) {
    throw RedisUnavailable("cannot connect to Redis at " + address + ": " + context->errstr);
  }
  if (redisSetTimeout(context.get(), to_timeval(settings.command_timeout)) != REDIS_OK) {
    throw RedisUnavailable("cannot set timeouts on the connection to Redis at " + address + ": " +
                           context->errstr);
  }
  // Lets the kernel notice a server that vanished without closing the connection (idle subscribers).
  redisEnableKeepAlive(context.get());
  if (!settings.password.empty()) {
    const RedisReply reply = execute(*context, {"AUTH", settings.password}, settings);
    if (reply.is_error()) {
      throw RedisUnavailable("Redis at " + address + " refused AUTH: " + reply.str);
    }
  }
  return context;
}

// A RESP2 connection with no command outstanding receives nothing, so readable bytes or EOF mean the server
// closed it (restart, idle timeout, CLIENT KILL). Catching that here avoids failing the next command on it.
bool closed_by_server(const redisContext& context) {
  pollfd socket{context.fd, POLLIN, 0};
  return ::poll(&socket, 1, 0) != 0;
}

}  // namespace

RedisSettings RedisSettings::from(const ConfigSource& config) {
  const RedisSettings defaults;
  RedisSettings settings;
  settings.address = config.get_host_port("RALLY_REDIS_ADDR", defaults.address.to_string());
  settings.password = config.get_string("RALLY_REDIS_PASSWORD", "");
  settings.connect_timeout = config.get_duration("RALLY_REDIS_CONNECT_TIMEOUT", defaults.connect_timeout,
                                                 milliseconds(10), milliseconds(60000));
  settings.command_timeout = config.get_duration("RALLY_REDIS_COMMAND_TIMEOUT", defaults.command_timeout,
                                                 milliseconds(10), milliseconds(60000));
  settings.reconnect_backoff = config.get_duration(
      "RALLY_REDIS_RECONNECT_BACKOFF", defaults.reconnect_backoff, milliseconds(10), milliseconds(60000));
  return settings;
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

struct RedisClient::Impl {
  explicit Impl(RedisSettings s) : settings(std::move(s)) {}

  // The live connection, reconnecting if it was lost; connection attempts are at least reconnect_backoff
  // apart, and calls in between fail at once. Throws RedisUnavailable.
  redisContext& connection() {
    if (context != nullptr) {
      if (!closed_by_server(*context)) {
        return *context;
      }
      context.reset();
      last_error = "Redis at " + settings.address.to_string() + " closed the connection";
    }
    const auto now = Clock::now();
    if (last_connect_attempt && now < *last_connect_attempt + settings.reconnect_backoff) {
      const auto wait =
          std::chrono::ceil<milliseconds>(*last_connect_attempt + settings.reconnect_backoff - now);
      throw RedisUnavailable(last_error + " (next connection attempt in " + std::to_string(wait.count()) +
                             "ms)");
    }
    last_connect_attempt = now;
    try {
      context = connect(settings);
    } catch (const RedisUnavailable& e) {
      last_error = e.what();
      throw;
    }
    return *context;
  }

  // A failed command leaves the connection in an unknown state (a late reply would be taken as the answer
  // to the next command), so it is dropped.
  RedisReply command(const std::vector<std::string>& args) {
    if (args.empty()) {
      throw std::invalid_argument("RedisClient::command: empty command");
    }
    redisContext& live = connection();
    try {
      return execute(live, args, settings);
    } catch (const RedisUnavailable& e) {
      context.reset();
      last_error = e.what();
      throw;
    }
  }

  const RedisSettings settings;
  std::mutex mutex;
  ContextPtr context;
  std::optional<Clock::time_point> last_connect_attempt;
  std::string last_error;
};

RedisClient::RedisClient(RedisSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}

RedisClient::~RedisClient() = default;

RedisReply RedisClient::command(const std::vector<std::string>& args) {
  std::lock_guard lock(impl_->mutex);
  return impl_->command(args);
}

bool RedisClient::ping() {
  try {
    const RedisReply reply = command({"PING"});
    return reply.type == RedisReply::Type::kStatus && reply.str == "PONG";
  } catch (const RedisUnavailable&) {
    return false;
  }
}

long long RedisClient::publish(std::string_view channel, std::string_view message) {
  const RedisReply reply = command({"PUBLISH", std::string(channel), std::string(message)});
  // Only a server that cannot serve us refuses PUBLISH (NOAUTH, LOADING, ...): for the caller, unavailable.
  if (reply.type != RedisReply::Type::kInteger) {
    throw RedisUnavailable("Redis at " + impl_->settings.address.to_string() +
                           " refused PUBLISH: " + reply.str);
  }
  return reply.integer;
}

RedisReply RedisClient::eval(const RedisScript& script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());

  // One lock for both attempts, so the fallback runs on the connection that reported NOSCRIPT.
  std::lock_guard lock(impl_->mutex);
  RedisReply reply = impl_->command(argv);
  if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
    // EVAL also caches the script, so later calls succeed with EVALSHA again.
    argv[0] = "EVAL";
    argv[1] = script.source();
    reply = impl_->command(argv);
  }
  return reply;
}

namespace {

// One connection's worth of subscribing: connect, subscribe, deliver messages until the connection fails
// or the wake pipe becomes readable.
class Subscription {
 public:
  Subscription(const RedisSettings& settings, const std::vector<std::string>& channels, bool patterns,
               const RedisSubscriber::Handler& handler, std::atomic<bool>& connected, int wake_fd)
      : settings_(settings),
        channels_(channels),
        patterns_(patterns),
        handler_(handler),
        connected_(connected),
        wake_fd_(wake_fd),
        // Redis counts distinct subscriptions, so duplicates in the list must not be counted twice.
        expected_count_(std::set<std::string>(channels.begin(), channels.end()).size()),
        description_(describe(settings, channels, patterns)) {}

  const std::string& description() const { return description_; }

  // Returns why the connection ended, or nullopt when woken to stop.
  std::optional<std::string> run() {
    ContextPtr context;
    try {
      context = connect(settings_);
    } catch (const RedisUnavailable& e) {
      return e.what();
    }
    if (auto failure = send_subscribe(*context)) {
      return failure;
    }

    while (true) {
      pollfd fds[2] = {{context->fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        return std::string("poll failed: ") + std::strerror(errno);
      }
      if (fds[1].revents != 0) {
        return std::nullopt;
      }
      if (fds[0].revents == 0) {
        continue;
      }
      // poll() said readable, so this read returns at once (data, EOF or an error), never blocks.
      if (redisBufferRead(context.get()) != REDIS_OK) {
        return std::string(context->errstr);
      }
      while (true) {
        void* raw = nullptr;
        if (redisGetReplyFromReader(context.get(), &raw) != REDIS_OK) {
          return std::string("protocol error: ") + context->errstr;
        }
        if (raw == nullptr) {
          break;
        }
        const ReplyPtr reply(static_cast<redisReply*>(raw));
        if (auto failure = dispatch(*reply)) {
          return failure;
        }
      }
    }
  }

 private:
  std::optional<std::string> send_subscribe(redisContext& context) {
    std::vector<const char*> argv{patterns_ ? "PSUBSCRIBE" : "SUBSCRIBE"};
    std::vector<std::size_t> lengths{std::strlen(argv.front())};
    for (const std::string& channel : channels_) {
      argv.push_back(channel.data());
      lengths.push_back(channel.size());
    }
    if (redisAppendCommandArgv(&context, static_cast<int>(argv.size()), argv.data(), lengths.data()) !=
        REDIS_OK) {
      return std::string("cannot build SUBSCRIBE: ") + context.errstr;
    }
    SigpipeGuard guard;
    int done = 0;
    while (done == 0) {
      if (redisBufferWrite(&context, &done) != REDIS_OK) {
        return std::string("cannot send SUBSCRIBE: ") + context.errstr;
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> dispatch(const redisReply& reply) {
    if (reply.type == REDIS_REPLY_ERROR) {
      return "Redis refused the subscription: " + std::string(view(reply));
    }
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3) {
      return std::nullopt;
    }
    for (std::size_t i = 0; i < reply.elements; ++i) {
      const int type = reply.element[i]->type;
      if (type != REDIS_REPLY_STRING && type != REDIS_REPLY_INTEGER) {
        return std::nullopt;
      }
    }
    const std::string_view kind = view(*reply.element[0]);
    if (kind == "message") {
      deliver(view(*reply.element[1]), view(*reply.element[2]));
    } else if (kind == "pmessage" && reply.elements == 4) {
      deliver(view(*reply.element[2]), view(*reply.element[3]));  // [pmessage, pattern, channel, payload]
    } else if (kind == "subscribe" || kind == "psubscribe") {
      const redisReply& count = *reply.element[2];
      // Redis confirms each channel separately; the subscription is complete when all are counted.
      if (count.type == REDIS_REPLY_INTEGER && static_cast<std::size_t>(count.integer) == expected_count_ &&
          !connected_.exchange(true)) {
        spdlog::info("{}: subscribed", description_);
      }
    }
    return std::nullopt;
  }

  void deliver(std::string_view channel, std::string_view message) {
    // A throwing handler must not take the subscription (and its thread) down with it.
    try {
      handler_(channel, message);
    } catch (const std::exception& e) {
      spdlog::error("{}: the handler failed on a message on {}: {}", description_, channel, e.what());
    } catch (...) {
      spdlog::error("{}: the handler failed on a message on {} with a non-standard exception", description_,
                    channel);
    }
  }

  static std::string describe(const RedisSettings& settings, const std::vector<std::string>& channels,
                              bool patterns) {
    std::string text =
        "Redis subscriber (" + settings.address.to_string() + (patterns ? ", patterns " : ", channels ");
    for (std::size_t i = 0; i < channels.size(); ++i) {
      text += (i == 0 ? "" : " ") + channels[i];
    }
    return text + ")";
  }

  const RedisSettings& settings_;
  const std::vector<std::string>& channels_;
  const bool patterns_;
  const RedisSubscriber::Handler& handler_;
  std::atomic<bool>& connected_;
  const int wake_fd_;
  const std::size_t expected_count_;
  const std::string description_;  // for log lines
};

}  // namespace

RedisSubscriber::RedisSubscriber(RedisSettings settings, std::vector<std::string> channels, bool patterns,
                                 Handler handler)
    : settings_(std::move(settings)),
      channels_(std::move(channels)),
      patterns_(patterns),
      handler_(std::move(handler)) {
  if (channels_.empty()) {
    throw std::invalid_argument("RedisSubscriber: no channels to subscribe to");
  }
  if (!handler_) {
    throw std::invalid_argument("RedisSubscriber: no handler");
  }
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "RedisSubscriber: pipe2");
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
    throw;
  }
}

RedisSubscriber::~RedisSubscriber() {
  stop_.store(true);
  // One byte wakes the thread; if the pipe were somehow full it would already be readable.
  const char wake = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_pipe_[1], &wake, 1);
  thread_.join();
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void RedisSubscriber::run() {
  Subscription subscription(settings_, channels_, patterns_, handler_, connected_, wake_pipe_[0]);
  bool failing = false;  // log when the subscription is lost, not on every attempt while Redis stays down
  while (!stop_.load()) {
    const std::optional<std::string> failure = subscription.run();
    const bool was_subscribed = connected_.exchange(false);
    if (!failure || stop_.load()) {
      break;
    }
    if (was_subscribed || !failing) {
      spdlog::warn("{}: {}; retrying every {}ms", subscription.description(), *failure,
                   settings_.reconnect_backoff.count());
    }
    failing = true;
    // Back off, but wake at once when asked to stop.
    pollfd wake{wake_pipe_[0], POLLIN, 0};
    while (::poll(&wake, 1, static_cast<int>(settings_.reconnect_backoff.count())) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace rally::common
