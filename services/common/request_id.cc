#include "services/common/request_id.h"

#include <array>
#include <cstdint>
#include <random>

namespace rally::common {
namespace {

// One engine per thread, so generating ids never takes a lock. It is seeded with 256 bits from the OS:
// seeding a Mersenne Twister from a single 32-bit value would leave only 2^32 possible id streams.
std::mt19937_64& thread_engine() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::array<std::uint32_t, 8> seed_words{};
    for (auto& word : seed_words) {
      word = device();
    }
    std::seed_seq seed(seed_words.begin(), seed_words.end());
    return std::mt19937_64(seed);
  }();
  return engine;
}

void append_hex(std::string& out, std::uint64_t value, int digits) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHexDigits[(value >> shift) & 0xF]);
  }
}

bool is_request_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

}  // namespace

std::string new_request_id() {
  auto& engine = thread_engine();
  std::string id;
  id.reserve(4 + 24);
  id.append("req_");
  append_hex(id, engine(), 16);  // 64 bits
  append_hex(id, engine(), 8);   // the low 32 bits of a second draw: 96 random bits in all
  return id;
}

bool is_valid_request_id(std::string_view candidate) {
  if (candidate.empty() || candidate.size() > 128) {
    return false;
  }
  for (char c : candidate) {
    if (!is_request_id_char(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace rally::common
