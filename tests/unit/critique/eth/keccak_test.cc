#include "services/critique/eth/keccak.h"

#include <catch2/catch.hpp>
#include <string>

#include "services/critique/eth/hex.h"

namespace rally::critique::eth {
namespace {

std::string hash_hex(std::string_view text) {
  return to_hex(keccak256(text));
}

// 'a', 'b', ... 'z', 'a', ...: `n` bytes.
std::string alphabet(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

}  // namespace

TEST_CASE("Keccak-256 of known strings (Ethereum's padding, not SHA3-256)", "[eth]") {
  CHECK(hash_hex("") == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  CHECK(hash_hex("abc") == "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  CHECK(hash_hex("The quick brown fox jumps over the lazy dog") ==
        "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
  // SHA3-256("") would be a7ffc6f8...: the padding byte differs.
  CHECK(hash_hex("") != "0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

TEST_CASE("Keccak-256 across the 136-byte block boundary matches Crypto++", "[eth]") {
  // References computed with CryptoPP::Keccak_256 over alphabet(n).
  CHECK(hash_hex(alphabet(135)) == "0x8d237f5df8929398beb5240705b61f6c35b8e03a02fa7d691701f356facafb16");
  CHECK(hash_hex(alphabet(136)) == "0xb98753581a7e73d753e1863f91847255c9a0dc6d4f751cbe191e70ce272a3565");
  CHECK(hash_hex(alphabet(137)) == "0xe7eedf0c2b2ad46aef681626370d6d7e0f0521d8e54d873c6c7895adb3ff7986");
  CHECK(hash_hex(alphabet(200)) == "0xe36640778716dea07b1e75d3920b262e9b16fb871b029b28cefbc8f55ff220c5");
  CHECK(hash_hex(alphabet(272)) == "0x2b0ea46cfb00cf48974dc4c219cd38840fe4ad17c810042b2124466850180160");
  CHECK(hash_hex(alphabet(1000)) == "0x15568cea6efcbb97df8b010291fca66d23b1986e4c8d782acd5f4d8ed60112e0");
}

TEST_CASE("The byte and text overloads hash the same bytes", "[eth]") {
  const std::string text = alphabet(300);
  const Bytes bytes(text.begin(), text.end());
  CHECK(keccak256(bytes) == keccak256(text));
}

TEST_CASE("Function selectors are the first four bytes of the signature's hash", "[eth]") {
  CHECK(hash_hex("sendMessage(string)").substr(0, 10) == "0x469c8110");
  CHECK(hash_hex("response()").substr(0, 10) == "0x7a7f01a7");
  CHECK(hash_hex("transfer(address,uint256)").substr(0, 10) == "0xa9059cbb");
}

}  // namespace rally::critique::eth
