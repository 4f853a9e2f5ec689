#include "store/api/api_codec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace kvstore::store {
namespace {

// "Application/JSON; charset=utf-8" -> "application/json"
std::string MediaType(absl::string_view header_value) {
  absl::string_view type = header_value.substr(0, header_value.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

}  // namespace

absl::StatusOr<Encoding> RequestEncoding(absl::string_view content_type) {
  std::string type = MediaType(content_type);
  if (type.empty() || type == kJsonContentType) return Encoding::kJson;
  if (type == kProtoContentType) return Encoding::kProto;
  return absl::InvalidArgumentError(
      absl::StrCat("Content-Type '", content_type, "' is not supported; use ",
                   kJsonContentType, " or ", kProtoContentType));
}

Encoding ResponseEncoding(absl::string_view accept, Encoding request) {
  for (absl::string_view part : absl::StrSplit(accept, ',')) {
    std::string type = MediaType(part);
    if (type == kJsonContentType) return Encoding::kJson;
    if (type == kProtoContentType) return Encoding::kProto;
  }
  return request;
}

absl::string_view ContentTypeOf(Encoding encoding) {
  return encoding == Encoding::kProto ? kProtoContentType : kJsonContentType;
}

absl::Status ParseMessage(absl::string_view body, Encoding encoding,
                          google::protobuf::Message* message) {
  message->Clear();
  if (body.empty()) return absl::OkStatus();
  if (encoding == Encoding::kProto) {
    if (!message->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "body is not a valid binary ", message->GetTypeName(), " message"));
    }
    return absl::OkStatus();
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), message,
      options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "body is not a valid JSON ", message->GetTypeName(), ": ",
        std::string(status.message().data(), status.message().size())));
  }
  return absl::OkStatus();
}

std::string SerializeMessage(const google::protobuf::Message& message,
                             Encoding encoding) {
  std::string out;
  if (encoding == Encoding::kProto) {
    message.SerializeToString(&out);
    return out;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  // Printing a well-formed message cannot fail; an empty body would show it.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace kvstore::store
