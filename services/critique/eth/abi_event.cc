#include "services/critique/eth/abi_event.h"

namespace rally::critique::eth::abi {
namespace {

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, "ABI event: " + std::move(message));
}

constexpr std::size_t kMaxIndexed = 3;  // topics[0] is the signature: 4 topics at most

}  // namespace

Hash32 event_topic(std::string_view canonical_signature) {
  return keccak256(canonical_signature);
}

std::string EventSpec::signature() const {
  std::vector<Type> types;
  types.reserve(params.size());
  for (const Parameter& p : params) types.push_back(p.type);
  return name + canonical_list(types);
}

Hash32 EventSpec::topic0() const {
  return event_topic(signature());
}

common::Result<std::vector<Value>> EventSpec::decode_log(const std::vector<Hash32>& topics,
                                                         std::span<const std::uint8_t> data) const {
  std::vector<Type> data_types;
  std::size_t indexed = 0;
  for (const Parameter& p : params) {
    if (p.indexed) {
      ++indexed;
    } else {
      data_types.push_back(p.type);
    }
  }
  if (topics.size() != 1 + indexed) {
    return invalid(name + " has " + std::to_string(indexed) + " indexed parameters, the log " +
                   std::to_string(topics.size()) + " topics");
  }
  if (topics[0] != topic0()) return invalid("topics[0] is not the topic of " + signature());

  auto data_values = decode(data_types, data);
  if (!data_values) return data_values.error();

  std::vector<Value> out;
  out.reserve(params.size());
  std::size_t next_topic = 1;
  std::size_t next_data = 0;
  for (const Parameter& p : params) {
    if (!p.indexed) {
      out.push_back(std::move(data_values.value()[next_data++]));
      continue;
    }
    const Hash32& topic = topics[next_topic++];
    if (!p.type.is_elementary()) {
      out.push_back(Value::fixed_bytes(Bytes(topic.begin(), topic.end())));
      continue;
    }
    auto value = decode({p.type}, topic);
    if (!value) return value.error();
    out.push_back(std::move(value.value()[0]));
  }
  return out;
}

common::Result<EventSpec> parse_event(std::string_view signature) {
  const std::size_t open = signature.find('(');
  if (open == std::string_view::npos || open == 0) {
    return invalid("signature must be Name(types...): " + std::string(signature));
  }
  EventSpec spec;
  spec.name = std::string(signature.substr(0, open));
  for (const char c : spec.name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    if (!ok || (spec.name[0] >= '0' && spec.name[0] <= '9')) return invalid("bad event name: " + spec.name);
  }
  std::size_t pos = open;
  auto params = parse_parameter_list(signature, pos, true);
  if (!params) return params.error();
  if (pos != signature.size()) {
    return invalid("unexpected '" + std::string(signature.substr(pos)) + "' after the parameters");
  }
  spec.params = std::move(params).value();
  std::size_t indexed = 0;
  for (const Parameter& p : spec.params) indexed += p.indexed ? 1 : 0;
  if (indexed > kMaxIndexed) return invalid("at most 3 parameters can be indexed");
  return spec;
}

}  // namespace rally::critique::eth::abi
