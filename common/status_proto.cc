#include "common/status_proto.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace kvstore {
namespace {

constexpr int kMaxCanonicalCode = 16;  // UNAUTHENTICATED

}  // namespace

void StatusToProto(const absl::Status& status, v1::Status* out) {
  out->set_code(static_cast<int>(status.code()));
  // A proto3 string: other languages' parsers reject one that is not UTF-8.
  out->set_message(ToValidUtf8(status.message()));
}

v1::Status StatusToProto(const absl::Status& status) {
  v1::Status out;
  StatusToProto(status, &out);
  return out;
}

absl::Status StatusFromProto(const v1::Status& proto) {
  if (proto.code() < 0 || proto.code() > kMaxCanonicalCode) {
    return absl::UnknownError(
        absl::StrCat("code ", proto.code(), ": ", proto.message()));
  }
  return absl::Status(static_cast<absl::StatusCode>(proto.code()),
                      proto.message());
}

}  // namespace kvstore
