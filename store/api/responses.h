// The one place the store's APIs build HTTP answers: plain bodies, kvstore.v1
// messages in the request's encoding, and errors as a kvstore.v1.Status body
// with the HTTP status of common/status_http.h (HttpStatusOf, so an override
// riding on the status wins).
//
// Pure functions; thread-safe.
#ifndef KVSTORE_STORE_API_RESPONSES_H_
#define KVSTORE_STORE_API_RESPONSES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "store/api/api_codec.h"
#include "store/http/http_server.h"

namespace kvstore::store {

// An answer with `body` as is.
HttpResponse BodyResponse(int http_status, std::string body,
                          absl::string_view content_type = "text/plain");

// An answer whose body is `message` in `encoding`.
HttpResponse MessageResponse(int http_status,
                             const google::protobuf::Message& message,
                             Encoding encoding);

// An error answer: {code, message} in `encoding`, HTTP status HttpStatusOf.
HttpResponse ErrorResponse(const absl::Status& status, Encoding encoding);

// The answer to a method a route does not take: 405 with an Allow header of
// `allowed` (e.g. "GET, POST"); the body's code is UNIMPLEMENTED, naming the
// method and `path`.
HttpResponse MethodNotAllowed(const HttpRequest& request,
                              absl::string_view path, absl::string_view allowed,
                              Encoding encoding);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_RESPONSES_H_
