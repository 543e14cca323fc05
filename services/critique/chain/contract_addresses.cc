#include "services/critique/chain/contract_addresses.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <utility>

#include "services/common/file_text.h"

namespace rally::critique::chain {

using common::Error;
using common::ErrorCode;
using common::Result;
using eth::Address;

Result<ContractAddresses> read_contract_addresses(const std::string& path) {
  const std::optional<std::string> text = common::read_file_text(path);
  if (!text) return Error(ErrorCode::kInvalidRequest, "cannot read " + path);
  boost::system::error_code ec;
  const boost::json::value value = boost::json::parse(*text, ec);
  if (ec || !value.is_object()) return Error(ErrorCode::kInvalidRequest, path + " is not a JSON object");
  const boost::json::object& object = value.get_object();
  ContractAddresses addresses;
  for (const auto& [field, target] :
       {std::pair{"oracle", &addresses.oracle}, std::pair{"critic", &addresses.critic}}) {
    const boost::json::value* text_value = object.if_contains(field);
    if (text_value == nullptr || !text_value->is_string())
      return Error(ErrorCode::kInvalidRequest, path + ": \"" + field + "\" must be an address string");
    Result<Address> address = Address::parse(text_value->get_string());
    if (!address.ok())
      return Error(ErrorCode::kInvalidRequest, path + ": \"" + field + "\": " + address.error().message);
    *target = address.value();
  }
  for (const auto& [field, target] :
       {std::pair{"chain_id", &addresses.chain_id}, std::pair{"block", &addresses.deploy_block}}) {
    const boost::json::value* number = object.if_contains(field);
    if (number == nullptr) continue;
    if (number->is_uint64()) {
      *target = number->get_uint64();
    } else if (number->is_int64() && number->get_int64() >= 0) {
      *target = static_cast<std::uint64_t>(number->get_int64());
    } else {
      return Error(ErrorCode::kInvalidRequest, path + ": \"" + field + "\" must be a whole number");
    }
  }
  return addresses;
}

std::string contract_addresses_json(const ContractAddresses& addresses, const Address& worker) {
  return boost::json::serialize(boost::json::object{{"chain_id", addresses.chain_id},
                                                    {"oracle", addresses.oracle.checksummed()},
                                                    {"critic", addresses.critic.checksummed()},
                                                    {"worker", worker.checksummed()},
                                                    {"block", addresses.deploy_block}}) +
         "\n";
}

}  // namespace rally::critique::chain
