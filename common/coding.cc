#include "common/coding.h"

namespace kvstore {
namespace {

template <typename T>
void AppendBigEndian(T v, std::string* out) {
  for (int shift = 8 * static_cast<int>(sizeof(T)) - 8; shift >= 0;
       shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

template <typename T>
bool ReadBigEndian(absl::string_view in, T* v) {
  if (in.size() < sizeof(T)) return false;
  T read = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    read = static_cast<T>((read << 8) | static_cast<uint8_t>(in[i]));
  }
  *v = read;
  return true;
}

constexpr size_t kMaxVarintBytes = 10;

}  // namespace

void AppendBigEndian32(uint32_t v, std::string* out) {
  AppendBigEndian(v, out);
}
void AppendBigEndian64(uint64_t v, std::string* out) {
  AppendBigEndian(v, out);
}
bool ReadBigEndian32(absl::string_view in, uint32_t* v) {
  return ReadBigEndian(in, v);
}
bool ReadBigEndian64(absl::string_view in, uint64_t* v) {
  return ReadBigEndian(in, v);
}

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

bool ReadVarint(absl::string_view in, uint64_t* v, size_t* length) {
  uint64_t read = 0;
  for (size_t i = 0; i < in.size() && i < kMaxVarintBytes; ++i) {
    read |= uint64_t{static_cast<uint8_t>(in[i]) & 0x7fu} << (7 * i);
    if ((static_cast<uint8_t>(in[i]) & 0x80u) == 0) {
      *v = read;
      *length = i + 1;
      return true;
    }
  }
  return false;
}

}  // namespace kvstore
