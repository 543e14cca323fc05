#include "services/critique/chain/eth_rpc_client.h"

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>
#include <utility>

#include "services/critique/chain/revert_reason.h"
#include "services/llm-proxy/http/http_client.h"
#include "services/llm-proxy/http/http_url.h"

namespace rally::critique::chain {
namespace {

namespace json = boost::json;
using common::Error;
using common::ErrorCode;
using common::Result;

Error malformed(std::string_view method, std::string_view what) {
  return Error(ErrorCode::kUpstreamError,
               "The Ethereum node answered " + std::string(method) + " with " + std::string(what));
}

Result<U256> quantity_of(const json::value& value, std::string_view method) {
  if (!value.is_string()) return malformed(method, "a quantity that is not a string");
  auto parsed = U256::parse_quantity(value.get_string());
  if (!parsed.ok()) return malformed(method, "a malformed quantity");
  return parsed.value();
}

Result<std::uint64_t> small_quantity_of(const json::value& value, std::string_view method) {
  auto parsed = quantity_of(value, method);
  if (!parsed.ok()) return parsed.error();
  const std::optional<std::uint64_t> small = parsed->to_u64();
  if (!small) return malformed(method, "a quantity beyond 64 bits");
  return *small;
}

Result<Bytes> bytes_of(const json::value& value, std::string_view method) {
  if (!value.is_string()) return malformed(method, "data that is not a string");
  auto parsed = eth::from_hex(value.get_string());
  if (!parsed.ok()) return malformed(method, "malformed hex data");
  return std::move(parsed.value());
}

Result<Hash32> hash_of(const json::value& value, std::string_view method) {
  auto bytes = bytes_of(value, method);
  if (!bytes.ok()) return bytes.error();
  if (bytes->size() != 32) return malformed(method, "a hash that is not 32 bytes");
  Hash32 hash{};
  std::copy(bytes->begin(), bytes->end(), hash.begin());
  return hash;
}

Result<Address> address_of(const json::value& value, std::string_view method) {
  if (!value.is_string()) return malformed(method, "an address that is not a string");
  auto parsed = Address::parse(value.get_string());
  if (!parsed.ok()) return malformed(method, "a malformed address");
  return parsed.value();
}

std::string quantity(std::uint64_t value) {
  return U256::from_u64(value).to_quantity();
}

json::object call_object(const CallRequest& call) {
  json::object object;
  if (call.from) object["from"] = call.from->lower_hex();
  if (call.to) object["to"] = call.to->lower_hex();
  object["data"] = eth::to_hex(call.data);
  if (!call.value.is_zero()) object["value"] = call.value.to_quantity();
  return object;
}

Result<LogEntry> log_of(const json::value& value, std::string_view method) {
  if (!value.is_object()) return malformed(method, "a log that is not an object");
  const json::object& object = value.get_object();
  const json::value* address = object.if_contains("address");
  const json::value* topics = object.if_contains("topics");
  const json::value* data = object.if_contains("data");
  const json::value* block = object.if_contains("blockNumber");
  const json::value* transaction = object.if_contains("transactionHash");
  const json::value* index = object.if_contains("logIndex");
  if (!address || !topics || !topics->is_array() || !data || !block || !transaction || !index)
    return malformed(method, "a log without its fields");
  LogEntry log;
  auto parsed_address = address_of(*address, method);
  if (!parsed_address.ok()) return parsed_address.error();
  log.address = parsed_address.value();
  for (const json::value& topic : topics->get_array()) {
    auto hash = hash_of(topic, method);
    if (!hash.ok()) return hash.error();
    log.topics.push_back(hash.value());
  }
  auto parsed_data = bytes_of(*data, method);
  auto parsed_block = small_quantity_of(*block, method);
  auto parsed_transaction = hash_of(*transaction, method);
  auto parsed_index = small_quantity_of(*index, method);
  if (!parsed_data.ok()) return parsed_data.error();
  if (!parsed_block.ok()) return parsed_block.error();
  if (!parsed_transaction.ok()) return parsed_transaction.error();
  if (!parsed_index.ok()) return parsed_index.error();
  log.data = std::move(parsed_data.value());
  log.block_number = parsed_block.value();
  log.transaction_hash = parsed_transaction.value();
  log.log_index = parsed_index.value();
  return log;
}

Result<Receipt> receipt_of(const json::object& object, std::string_view method) {
  const json::value* hash = object.if_contains("transactionHash");
  const json::value* status = object.if_contains("status");
  const json::value* block = object.if_contains("blockNumber");
  const json::value* gas = object.if_contains("gasUsed");
  const json::value* logs = object.if_contains("logs");
  if (!hash || !status || !block || !gas || !logs || !logs->is_array())
    return malformed(method, "a receipt without its fields");
  Receipt receipt;
  auto parsed_hash = hash_of(*hash, method);
  auto parsed_status = small_quantity_of(*status, method);
  auto parsed_block = small_quantity_of(*block, method);
  auto parsed_gas = small_quantity_of(*gas, method);
  if (!parsed_hash.ok()) return parsed_hash.error();
  if (!parsed_status.ok()) return parsed_status.error();
  if (!parsed_block.ok()) return parsed_block.error();
  if (!parsed_gas.ok()) return parsed_gas.error();
  receipt.transaction_hash = parsed_hash.value();
  receipt.succeeded = parsed_status.value() == 1;
  receipt.block_number = parsed_block.value();
  receipt.gas_used = parsed_gas.value();
  if (const json::value* created = object.if_contains("contractAddress"); created && !created->is_null()) {
    auto address = address_of(*created, method);
    if (!address.ok()) return address.error();
    receipt.contract_address = address.value();
  }
  for (const json::value& entry : logs->get_array()) {
    auto log = log_of(entry, method);
    if (!log.ok()) return log.error();
    receipt.logs.push_back(std::move(log.value()));
  }
  return receipt;
}

}  // namespace

struct EthRpcClient::Impl {
  EthRpcSettings settings;
  llm_proxy::HttpClient http;
  std::atomic<std::uint64_t> next_id{1};

  explicit Impl(EthRpcSettings s)
      : settings(std::move(s)),
        http(llm_proxy::HttpClientOptions{.threads = 1, .extra_ca_file = settings.extra_ca_file}) {}

  // One JSON-RPC call: its "result", or the error the header describes.
  Result<json::value> call(std::string_view method, json::array params) {
    const std::uint64_t id = next_id.fetch_add(1);
    llm_proxy::HttpRequest request;
    request.method = "POST";
    request.url = settings.url;
    request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "LlamaRally-critique"}};
    request.body = json::serialize(
        json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    request.timeouts.connect = settings.connect_timeout;
    request.timeouts.first_byte = settings.timeout;
    request.timeouts.total = settings.timeout;
    const llm_proxy::HttpFetchResult result = http.fetch(std::move(request)).get();
    if (result.error) {
      using Kind = llm_proxy::HttpErrorKind;
      const Kind kind = result.error->kind;
      if (kind == Kind::kTimeoutFirstByte || kind == Kind::kTimeoutTotal || kind == Kind::kTimeoutIdle) {
        return Error(ErrorCode::kApiTimeout,
                     "The Ethereum node did not answer " + std::string(method) + " in time");
      }
      return Error(ErrorCode::kChainUnavailable, "The Ethereum node at " + settings.url +
                                                     " is unreachable (" +
                                                     std::string(llm_proxy::to_string(kind)) + ")");
    }
    if (result.head.status != 200) {
      return Error(ErrorCode::kChainUnavailable, "The Ethereum node answered " + std::string(method) +
                                                     " with HTTP " + std::to_string(result.head.status));
    }
    boost::system::error_code ec;
    json::value answer = json::parse(result.body, ec);
    if (ec || !answer.is_object()) return malformed(method, "a body that is not a JSON object");
    json::object& object = answer.get_object();
    if (const json::value* error = object.if_contains("error"); error && !error->is_null()) {
      return rpc_error(method, *error);
    }
    json::value* value = object.if_contains("result");
    if (value == nullptr) return malformed(method, "neither a result nor an error");
    return std::move(*value);
  }

  static Error rpc_error(std::string_view method, const json::value& error) {
    std::string message = "unknown error";
    std::vector<std::pair<std::string, std::string>> details{{"method", std::string(method)}};
    if (error.is_object()) {
      const json::object& object = error.get_object();
      if (const json::value* text = object.if_contains("message"); text && text->is_string())
        message = std::string(text->get_string());
      if (const json::value* code = object.if_contains("code"); code && code->is_int64())
        details.emplace_back("rpc_code", std::to_string(code->get_int64()));
      if (const json::value* data = object.if_contains("data"); data && data->is_string()) {
        details.emplace_back("data", std::string(data->get_string()));
        if (auto bytes = eth::from_hex(data->get_string()); bytes.ok()) {
          message = "reverted: " + revert_reason(bytes.value());
        }
      }
    }
    return Error(ErrorCode::kUpstreamError,
                 "The Ethereum node refused " + std::string(method) + ": " + message, std::move(details));
  }
};

EthRpcClient::EthRpcClient(EthRpcSettings settings) {
  if (!llm_proxy::HttpUrl::parse(settings.url).ok()) {
    throw std::invalid_argument("not an http(s) URL: " + settings.url);
  }
  impl_ = std::make_unique<Impl>(std::move(settings));
}

EthRpcClient::~EthRpcClient() = default;

const std::string& EthRpcClient::url() const {
  return impl_->settings.url;
}

Result<std::uint64_t> EthRpcClient::chain_id() {
  auto value = impl_->call("eth_chainId", {});
  if (!value.ok()) return value.error();
  return small_quantity_of(value.value(), "eth_chainId");
}

Result<std::uint64_t> EthRpcClient::block_number() {
  auto value = impl_->call("eth_blockNumber", {});
  if (!value.ok()) return value.error();
  return small_quantity_of(value.value(), "eth_blockNumber");
}

Result<U256> EthRpcClient::pending_nonce(const Address& account) {
  auto value = impl_->call("eth_getTransactionCount", {account.lower_hex(), "pending"});
  if (!value.ok()) return value.error();
  return quantity_of(value.value(), "eth_getTransactionCount");
}

Result<FeeData> EthRpcClient::fee_data() {
  FeeData fees;
  auto price = impl_->call("eth_gasPrice", {});
  if (!price.ok()) return price.error();
  auto gas_price = quantity_of(price.value(), "eth_gasPrice");
  if (!gas_price.ok()) return gas_price.error();
  fees.gas_price = gas_price.value();

  auto block = impl_->call("eth_getBlockByNumber", {"latest", false});
  if (!block.ok()) return block.error();
  if (block->is_object()) {
    if (const json::value* base = block->get_object().if_contains("baseFeePerGas");
        base && !base->is_null()) {
      auto base_fee = quantity_of(*base, "eth_getBlockByNumber");
      if (!base_fee.ok()) return base_fee.error();
      fees.base_fee = base_fee.value();
    }
  }
  // Not every node has eth_maxPriorityFeePerGas; the default tip stands in for it.
  if (auto tip = impl_->call("eth_maxPriorityFeePerGas", {}); tip.ok()) {
    if (auto parsed = quantity_of(tip.value(), "eth_maxPriorityFeePerGas"); parsed.ok())
      fees.max_priority_fee = parsed.value();
  } else if (tip.error().code == ErrorCode::kChainUnavailable || tip.error().code == ErrorCode::kApiTimeout) {
    return tip.error();
  }
  return fees;
}

Result<U256> EthRpcClient::estimate_gas(const CallRequest& call) {
  auto value = impl_->call("eth_estimateGas", {call_object(call)});
  if (!value.ok()) return value.error();
  return quantity_of(value.value(), "eth_estimateGas");
}

Result<Bytes> EthRpcClient::call(const CallRequest& call, std::optional<std::uint64_t> block) {
  auto value = impl_->call("eth_call", {call_object(call), block ? json::value(quantity(*block)) : "latest"});
  if (!value.ok()) return value.error();
  return bytes_of(value.value(), "eth_call");
}

Result<Hash32> EthRpcClient::send_raw_transaction(const Bytes& raw) {
  auto value = impl_->call("eth_sendRawTransaction", {eth::to_hex(raw)});
  if (!value.ok()) return value.error();
  return hash_of(value.value(), "eth_sendRawTransaction");
}

Result<std::optional<Receipt>> EthRpcClient::receipt(const Hash32& transaction_hash) {
  auto value = impl_->call("eth_getTransactionReceipt", {eth::to_hex(transaction_hash)});
  if (!value.ok()) return value.error();
  if (value->is_null()) return std::optional<Receipt>();
  if (!value->is_object()) return malformed("eth_getTransactionReceipt", "a receipt that is not an object");
  auto receipt = receipt_of(value->get_object(), "eth_getTransactionReceipt");
  if (!receipt.ok()) return receipt.error();
  return std::optional<Receipt>(std::move(receipt.value()));
}

Result<std::vector<LogEntry>> EthRpcClient::logs(const LogFilter& filter) {
  json::array topics{eth::to_hex(filter.event_topic)};
  if (filter.topic1) topics.push_back(json::value(eth::to_hex(*filter.topic1)));
  json::object query{{"address", filter.address.lower_hex()},
                     {"topics", std::move(topics)},
                     {"fromBlock", quantity(filter.from_block)},
                     {"toBlock", filter.to_block ? json::value(quantity(*filter.to_block)) : "latest"}};
  auto value = impl_->call("eth_getLogs", {std::move(query)});
  if (!value.ok()) return value.error();
  if (!value->is_array()) return malformed("eth_getLogs", "a result that is not an array");
  std::vector<LogEntry> entries;
  for (const json::value& entry : value->get_array()) {
    auto log = log_of(entry, "eth_getLogs");
    if (!log.ok()) return log.error();
    entries.push_back(std::move(log.value()));
  }
  return entries;
}

}  // namespace rally::critique::chain
