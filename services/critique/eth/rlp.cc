#include "services/critique/eth/rlp.h"

#include <stdexcept>

namespace rally::critique::eth::rlp {
namespace {

common::Error invalid(std::string message) {
  return common::Error(common::ErrorCode::kInvalidRequest, "RLP: " + std::move(message));
}

void append_length_prefix(Bytes& out, std::size_t length, std::uint8_t short_base) {
  if (length < 56) {
    out.push_back(static_cast<std::uint8_t>(short_base + length));
    return;
  }
  const Bytes length_bytes = U256::from_u64(length).to_minimal_big_endian();
  out.push_back(static_cast<std::uint8_t>(short_base + 55 + length_bytes.size()));
  out.insert(out.end(), length_bytes.begin(), length_bytes.end());
}

void encode_into(const Item& item, Bytes& out) {
  if (!item.is_list()) {
    const Bytes& value = item.as_bytes();
    if (value.size() == 1 && value[0] < 0x80) {
      out.push_back(value[0]);
      return;
    }
    append_length_prefix(out, value.size(), 0x80);
    out.insert(out.end(), value.begin(), value.end());
    return;
  }
  Bytes payload;
  for (const Item& child : item.as_list()) encode_into(child, payload);
  append_length_prefix(out, payload.size(), 0xc0);
  out.insert(out.end(), payload.begin(), payload.end());
}

struct Header {
  bool is_list = false;
  std::size_t header_size = 0;
  std::size_t payload_size = 0;
};

// Reads the prefix at the start of `data` and checks that the payload fits in it.
common::Result<Header> read_header(std::span<const std::uint8_t> data) {
  if (data.empty()) return invalid("unexpected end of input");
  const std::uint8_t prefix = data[0];
  Header h;
  if (prefix < 0x80) {
    h.payload_size = 1;  // the byte is its own payload
    return h;
  }
  h.is_list = prefix >= 0xc0;
  const std::uint8_t base = h.is_list ? 0xc0 : 0x80;
  const std::size_t short_length = prefix - base;
  if (short_length < 56) {
    h.header_size = 1;
    h.payload_size = short_length;
  } else {
    const std::size_t length_size = short_length - 55;  // 1..8
    if (data.size() < 1 + length_size) return invalid("truncated length");
    if (data[1] == 0) return invalid("length has a leading zero byte");
    std::size_t length = 0;
    for (std::size_t i = 0; i < length_size; ++i) length = length << 8 | data[1 + i];
    if (length < 56) return invalid("long form used for a length under 56");
    h.header_size = 1 + length_size;
    h.payload_size = length;
  }
  if (h.payload_size > data.size() - h.header_size) return invalid("length runs past the end of the input");
  if (!h.is_list && h.header_size == 1 && h.payload_size == 1 && data[1] < 0x80) {
    return invalid("single byte below 0x80 must be encoded as itself");
  }
  return h;
}

// Decodes the item at the start of `data`; `consumed` receives its encoded size.
common::Result<Item> decode_one(std::span<const std::uint8_t> data, int depth, std::size_t& consumed) {
  auto header = read_header(data);
  if (!header) return header.error();
  const Header h = header.value();
  if (h.header_size == 0) {
    consumed = 1;
    return Item::bytes(Bytes{data[0]});
  }
  consumed = h.header_size + h.payload_size;
  const auto payload = data.subspan(h.header_size, h.payload_size);
  if (!h.is_list) return Item::bytes(Bytes(payload.begin(), payload.end()));
  if (depth >= kMaxDepth) return invalid("lists nested deeper than " + std::to_string(kMaxDepth));
  std::vector<Item> items;
  for (std::size_t offset = 0; offset < payload.size();) {
    std::size_t used = 0;
    auto child = decode_one(payload.subspan(offset), depth + 1, used);
    if (!child) return child.error();
    items.push_back(std::move(child).value());
    offset += used;
  }
  return Item::list(std::move(items));
}

}  // namespace

Item Item::bytes(Bytes value) {
  Item out;
  out.bytes_ = std::move(value);
  return out;
}

Item Item::string(std::string_view text) {
  return bytes(Bytes(text.begin(), text.end()));
}

Item Item::uint(const U256& value) {
  return bytes(value.to_minimal_big_endian());
}

Item Item::uint(std::uint64_t value) {
  return uint(U256::from_u64(value));
}

Item Item::list(std::vector<Item> items) {
  Item out;
  out.is_list_ = true;
  out.items_ = std::move(items);
  return out;
}

const Bytes& Item::as_bytes() const {
  if (is_list_) throw std::logic_error("rlp::Item::as_bytes on a list");
  return bytes_;
}

const std::vector<Item>& Item::as_list() const {
  if (!is_list_) throw std::logic_error("rlp::Item::as_list on a byte string");
  return items_;
}

std::optional<U256> Item::as_uint() const {
  if (is_list_ || bytes_.size() > 32 || (!bytes_.empty() && bytes_[0] == 0)) return std::nullopt;
  return U256::from_big_endian(bytes_);
}

Bytes encode(const Item& item) {
  Bytes out;
  encode_into(item, out);
  return out;
}

common::Result<Item> decode(std::span<const std::uint8_t> data) {
  std::size_t consumed = 0;
  auto item = decode_one(data, 0, consumed);
  if (!item) return item;
  if (consumed != data.size()) return invalid("trailing bytes after the item");
  return item;
}

}  // namespace rally::critique::eth::rlp
