#include "store/api/responses.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/quote.h"
#include "common/status_http.h"
#include "common/status_proto.h"

namespace kvstore::store {

HttpResponse BodyResponse(int http_status, std::string body,
                          absl::string_view content_type) {
  HttpResponse res{static_cast<boost::beast::http::status>(http_status), 11};
  res.set(boost::beast::http::field::content_type,
          boost::beast::string_view(content_type.data(), content_type.size()));
  res.body() = std::move(body);
  return res;
}

HttpResponse MessageResponse(int http_status,
                             const google::protobuf::Message& message,
                             Encoding encoding) {
  return BodyResponse(http_status, SerializeMessage(message, encoding),
                      ContentTypeOf(encoding));
}

HttpResponse ErrorResponse(const absl::Status& status, Encoding encoding) {
  return MessageResponse(HttpStatusOf(status), StatusToProto(status), encoding);
}

HttpResponse MethodNotAllowed(const HttpRequest& request,
                              absl::string_view path, absl::string_view allowed,
                              Encoding encoding) {
  absl::Status status =
      WithHttpStatus(absl::UnimplementedError(
                         absl::StrCat(std::string(request.method_string()),
                                      " is not supported on ", Quote(path))),
                     405);
  HttpResponse res = ErrorResponse(status, encoding);
  res.set(boost::beast::http::field::allow,
          boost::beast::string_view(allowed.data(), allowed.size()));
  return res;
}

}  // namespace kvstore::store
