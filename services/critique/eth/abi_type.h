// Solidity ABI types, parsed from their canonical spelling ("uint256", "bytes32", "string[]",
// "(address,bool)", "uint8[3][]"). Signatures and selectors are computed from canonical() text, so a type
// read from a signature and written back gives the exact string the contract's selector was hashed from.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/errors.h"

namespace rally::critique::eth::abi {

class Type {
 public:
  enum class Kind { kUint, kInt, kAddress, kBool, kFixedBytes, kBytes, kString, kArray, kFixedArray, kTuple };

  // One type in canonical form, no spaces. "uint"/"int" are accepted as uint256/int256 (canonical() writes
  // the full name). Errors (kInvalidRequest): unknown names, widths that are not a multiple of 8 in 8..256,
  // bytesN outside 1..32, fixed arrays of length 0 or above kMaxFixedArrayLength, nesting deeper than
  // kMaxNesting, static encodings above kMaxStaticSize bytes.
  static common::Result<Type> parse(std::string_view text);

  // Factories for code that builds types directly; invalid widths or sizes are programming errors
  // (std::invalid_argument).
  static Type uint(unsigned bits = 256);
  static Type int_(unsigned bits = 256);
  static Type address();
  static Type boolean();
  static Type fixed_bytes(std::size_t size);
  static Type bytes();
  static Type string();
  static Type array(Type element);
  static Type fixed_array(Type element, std::size_t length);
  static Type tuple(std::vector<Type> components);

  Kind kind() const { return kind_; }
  unsigned bits() const { return bits_; }       // uintN / intN
  std::size_t size() const { return size_; }    // bytesN: N; T[k]: k; tuple: number of components
  const Type& element() const;                  // T[] and T[k]; std::logic_error otherwise
  const std::vector<Type>& components() const;  // tuples; std::logic_error otherwise
  // bytes, string, T[], and fixed arrays and tuples holding a dynamic type.
  bool is_dynamic() const { return dynamic_; }
  // uintN, intN, address, bool, bytesN: encoded in one word and stored as-is in an indexed event topic.
  bool is_elementary() const;
  // Bytes the type takes in the head of an enclosing tuple: 32 (an offset) for dynamic types, else its whole
  // encoding.
  std::size_t head_size() const { return head_size_; }
  std::string canonical() const;

  friend bool operator==(const Type&, const Type&) = default;

 private:
  Type(Kind kind, unsigned bits, std::size_t size, std::vector<Type> children);

  Kind kind_ = Kind::kBool;
  unsigned bits_ = 0;
  std::size_t size_ = 0;
  std::vector<Type> children_;  // the element of an array, the components of a tuple
  bool dynamic_ = false;
  std::size_t head_size_ = 32;
};

inline constexpr std::size_t kMaxFixedArrayLength = 1 << 16;
inline constexpr int kMaxNesting = 32;
inline constexpr std::size_t kMaxStaticSize = std::size_t{1} << 20;

// A parameter of a function or event signature.
struct Parameter {
  Type type;
  bool indexed = false;  // events only
  std::string name;      // empty when the signature names none
};

// A parenthesised parameter list as written in a signature: "(uint256,string)", "()", and the human-readable
// form "(uint256 indexed promptId, address sender)". Spaces around names are allowed; `indexed` only when
// allow_indexed. `pos` must be at '(' and ends after ')'.
common::Result<std::vector<Parameter>> parse_parameter_list(std::string_view text, std::size_t& pos,
                                                            bool allow_indexed);

// A comma-separated list of canonical types without parentheses: "uint256,string"; "" is no types.
common::Result<std::vector<Type>> parse_types(std::string_view text);

// "(T1,T2,...)" of the types' canonical forms.
std::string canonical_list(const std::vector<Type>& types);

}  // namespace rally::critique::eth::abi
