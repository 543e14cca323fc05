#include "services/critique/critique_settings.h"

#include "services/common/file_text.h"

namespace rally::critique {
namespace {

using common::ConfigError;
using common::Error;
using common::ErrorCode;
using common::Result;
using std::chrono::milliseconds;

constexpr milliseconds kHour{60 * 60 * 1000};

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

chain::Address address_setting(const common::ConfigSource& config, std::string_view key) {
  const std::string text = config.get_nonempty_string(key, "");
  Result<chain::Address> address = chain::Address::parse(text);
  if (!address.ok()) throw ConfigError(std::string(key), address.error().message);
  return address.value();
}

}  // namespace

std::optional<eth::PrivateKey> read_private_key(const common::ConfigSource& config, std::string_view key,
                                                std::string_view file_key) {
  std::string text = config.get_string(key, "");
  std::string_view source = key;
  if (text.empty()) {
    const std::string path = config.get_string(file_key, "");
    if (path.empty()) return std::nullopt;
    const std::optional<std::string> contents = common::read_file_text(path);
    if (!contents) throw ConfigError(std::string(file_key), "cannot read " + path);
    text = *contents;
    source = file_key;
  }
  Result<eth::PrivateKey> parsed = eth::PrivateKey::from_hex(trimmed(std::move(text)));
  // The message says what is wrong, never what the value was.
  if (!parsed.ok())
    throw ConfigError(std::string(source), "not a valid secp256k1 private key (64 hex digits)");
  return std::move(parsed.value());
}

CritiqueSettings CritiqueSettings::from(const common::ConfigSource& config) {
  CritiqueSettings settings;
  settings.rpc.url = config.get_nonempty_string("RALLY_CRITIQUE_RPC_URL", settings.rpc.url);
  settings.rpc.timeout =
      config.get_duration("RALLY_CRITIQUE_RPC_TIMEOUT", settings.rpc.timeout, milliseconds(100), kHour);
  settings.rpc.extra_ca_file = config.get_string("RALLY_CRITIQUE_RPC_CA_FILE", "");

  chain::SendSettings& send = settings.send;
  send.chain_id = static_cast<std::uint64_t>(
      config.get_int("RALLY_CRITIQUE_CHAIN_ID", static_cast<std::int64_t>(send.chain_id), 1, INT64_MAX));
  send.gas.fees = config.get_choice("RALLY_CRITIQUE_GAS_FEES", "eip1559", {"eip1559", "legacy"}) == "legacy"
                      ? chain::GasPolicy::Fees::kLegacy
                      : chain::GasPolicy::Fees::kEip1559;
  if (const std::string price = config.get_string("RALLY_CRITIQUE_GAS_PRICE", ""); !price.empty()) {
    Result<eth::U256> parsed = eth::U256::parse_decimal(price);
    if (!parsed.ok()) throw ConfigError("RALLY_CRITIQUE_GAS_PRICE", "must be a whole number of wei");
    send.gas.gas_price = parsed.value();
  }
  if (config.has("RALLY_CRITIQUE_GAS_LIMIT") && !config.get_string("RALLY_CRITIQUE_GAS_LIMIT", "").empty()) {
    send.gas.gas_limit =
        static_cast<std::uint64_t>(config.get_int("RALLY_CRITIQUE_GAS_LIMIT", 0, 21'000, 100'000'000));
  }
  send.gas.margin_percent = static_cast<std::uint64_t>(config.get_int(
      "RALLY_CRITIQUE_GAS_MARGIN", static_cast<std::int64_t>(send.gas.margin_percent), 0, 1000));
  send.gas.max_gas_limit = static_cast<std::uint64_t>(config.get_int(
      "RALLY_CRITIQUE_MAX_GAS", static_cast<std::int64_t>(send.gas.max_gas_limit), 21'000, 1'000'000'000));

  if (const std::string file = config.get_string("RALLY_CRITIQUE_CONTRACTS_FILE", ""); !file.empty()) {
    Result<chain::ContractAddresses> addresses = chain::read_contract_addresses(file);
    if (!addresses.ok()) throw ConfigError("RALLY_CRITIQUE_CONTRACTS_FILE", addresses.error().message);
    settings.contracts = addresses.value();
    if (settings.contracts.chain_id != 0 && settings.contracts.chain_id != send.chain_id) {
      throw ConfigError("RALLY_CRITIQUE_CONTRACTS_FILE",
                        "its contracts are on chain " + std::to_string(settings.contracts.chain_id) +
                            ", not RALLY_CRITIQUE_CHAIN_ID " + std::to_string(send.chain_id));
    }
  } else {
    settings.contracts.oracle = address_setting(config, "RALLY_CRITIQUE_ORACLE_ADDRESS");
    settings.contracts.critic = address_setting(config, "RALLY_CRITIQUE_CRITIC_ADDRESS");
  }
  settings.contracts.chain_id = send.chain_id;
  if (config.has("RALLY_CRITIQUE_START_BLOCK")) {
    settings.contracts.deploy_block =
        static_cast<std::uint64_t>(config.get_int("RALLY_CRITIQUE_START_BLOCK", 0, 0, INT64_MAX));
  }

  settings.requester_key =
      read_private_key(config, "RALLY_CRITIQUE_REQUESTER_KEY", "RALLY_CRITIQUE_REQUESTER_KEY_FILE");
  if (!settings.requester_key)
    throw ConfigError("RALLY_CRITIQUE_REQUESTER_KEY", "is required (or RALLY_CRITIQUE_REQUESTER_KEY_FILE)");
  settings.run_worker = config.get_bool("RALLY_CRITIQUE_WORKER", settings.run_worker);
  settings.worker_key =
      read_private_key(config, "RALLY_CRITIQUE_WORKER_KEY", "RALLY_CRITIQUE_WORKER_KEY_FILE");
  if (settings.run_worker && !settings.worker_key)
    throw ConfigError("RALLY_CRITIQUE_WORKER_KEY", "is required while RALLY_CRITIQUE_WORKER is on");

  settings.model = config.get_nonempty_string("RALLY_CRITIQUE_MODEL", settings.model);
  settings.llm_proxy = config.get_host_port("RALLY_LLM_PROXY_ADDR", settings.llm_proxy.to_string());
  settings.timeout =
      config.get_duration("RALLY_CRITIQUE_TIMEOUT", settings.timeout, milliseconds(100), kHour);
  settings.poll_interval =
      config.get_duration("RALLY_CRITIQUE_POLL_INTERVAL", settings.poll_interval, milliseconds(5), kHour);
  settings.max_prompt_bytes = static_cast<std::size_t>(
      config.get_bytes("RALLY_CRITIQUE_MAX_PROMPT_BYTES", settings.max_prompt_bytes, 1, 1024 * 1024));
  settings.worker_concurrency = static_cast<std::size_t>(config.get_int(
      "RALLY_CRITIQUE_WORKER_CONCURRENCY", static_cast<std::int64_t>(settings.worker_concurrency), 1, 256));
  settings.threads = static_cast<std::size_t>(
      config.get_int("RALLY_CRITIQUE_THREADS", static_cast<std::int64_t>(settings.threads), 1, 1024));
  settings.queue = static_cast<std::size_t>(
      config.get_int("RALLY_CRITIQUE_QUEUE", static_cast<std::int64_t>(settings.queue), 1, 100'000));
  return settings;
}

}  // namespace rally::critique
