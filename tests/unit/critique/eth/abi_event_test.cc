#include "services/critique/eth/abi_event.h"

#include <catch2/catch.hpp>

namespace rally::critique::eth::abi {
namespace {

Hash32 topic_word(const U256& value) {
  return value.to_big_endian();
}

Hash32 topic_address(const Address& address) {
  Hash32 out{};
  std::copy(address.bytes.begin(), address.bytes.end(), out.begin() + 12);
  return out;
}

}  // namespace

TEST_CASE("Event topics hash the canonical signature", "[eth]") {
  CHECK(to_hex(event_topic("Transfer(address,address,uint256)")) ==
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
  const EventSpec transfer =
      parse_event("Transfer(address indexed from, address indexed to, uint256 value)").value();
  CHECK(transfer.signature() == "Transfer(address,address,uint256)");
  CHECK(transfer.topic0() == event_topic("Transfer(address,address,uint256)"));
}

TEST_CASE("A PromptAdded log decodes indexed ids from topics and the rest from data", "[eth]") {
  const EventSpec spec = parse_event("PromptAdded(uint256 indexed,uint256 indexed,address,string)").value();
  CHECK(spec.name == "PromptAdded");
  CHECK(spec.topic0() == keccak256(std::string_view("PromptAdded(uint256,uint256,address,string)")));
  const Address sender = Address::parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").value();
  const Bytes data =
      encode({Type::address(), Type::string()}, {Value::address(sender), Value::string("rate my prompt")})
          .value();
  const std::vector<Hash32> topics{spec.topic0(), topic_word(U256::from_u64(7)),
                                   topic_word(U256::from_u64(42))};

  const auto values = spec.decode_log(topics, data);
  REQUIRE(values.ok());
  REQUIRE(values->size() == 4);
  CHECK(values->at(0).as_uint() == U256::from_u64(7));
  CHECK(values->at(1).as_uint() == U256::from_u64(42));
  CHECK(values->at(2).as_address() == sender);
  CHECK(values->at(3).as_string() == "rate my prompt");
}

TEST_CASE("Indexed parameters keep declaration order and dynamic ones come back as their hash", "[eth]") {
  const EventSpec spec = parse_event("Answered(string indexed key,bool ok,address indexed by)").value();
  const Address by = Address::parse("0x5FbDB2315678afecb367f032d93F642f64180aa3").value();
  const Hash32 key_hash = keccak256(std::string_view("prompt-1"));
  const Bytes data = encode({Type::boolean()}, {Value::boolean(true)}).value();
  const auto values = spec.decode_log({spec.topic0(), key_hash, topic_address(by)}, data);
  REQUIRE(values.ok());
  CHECK(values->at(0) == Value::fixed_bytes(Bytes(key_hash.begin(), key_hash.end())));
  CHECK(values->at(1).as_bool() == true);
  CHECK(values->at(2).as_address() == by);
}

TEST_CASE("Logs that do not match the event are errors", "[eth]") {
  const EventSpec spec = parse_event("PromptAdded(uint256 indexed,uint256 indexed,address)").value();
  const Bytes data = encode({Type::address()}, {Value::address(Address{})}).value();
  const Hash32 one = topic_word(U256::from_u64(1));
  CHECK(spec.decode_log({spec.topic0(), one, one}, data).ok());
  CHECK_FALSE(spec.decode_log({spec.topic0(), one}, data).ok());            // a topic missing
  CHECK_FALSE(spec.decode_log({spec.topic0(), one, one, one}, data).ok());  // one too many
  CHECK_FALSE(spec.decode_log({}, data).ok());
  CHECK_FALSE(spec.decode_log({one, one, one}, data).ok());                    // another event
  CHECK_FALSE(spec.decode_log({spec.topic0(), one, one}, Bytes(31, 0)).ok());  // data too short

  const EventSpec by_address = parse_event("Seen(address indexed)").value();
  Hash32 dirty = topic_address(Address{});
  dirty[0] = 1;
  CHECK_FALSE(by_address.decode_log({by_address.topic0(), dirty}, {}).ok());
}

TEST_CASE("Malformed event signatures are errors", "[eth]") {
  CHECK_FALSE(parse_event("").ok());
  CHECK_FALSE(parse_event("(uint256)").ok());
  CHECK_FALSE(parse_event("Bad Name(uint256)").ok());
  CHECK_FALSE(parse_event("E(uint256").ok());
  CHECK_FALSE(parse_event("E(uint256) x").ok());
  CHECK_FALSE(parse_event("E(uint256 indexed,uint256 indexed,uint256 indexed,uint256 indexed)").ok());
  CHECK(parse_event("E(uint256 indexed,uint256 indexed,uint256 indexed,uint256)").ok());
  CHECK(parse_event("E()").ok());
}

}  // namespace rally::critique::eth::abi
