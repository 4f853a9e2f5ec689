// What the injection points match an HTTP request on (RequestInfo,
// injection_registry.h), built the same way for every API; and the one
// conversion of an injected transport fault into how the HTTP server sends
// the answer.
//
// Pure function; thread-safe.
#ifndef KVSTORE_STORE_API_REQUEST_INFO_H_
#define KVSTORE_STORE_API_REQUEST_INFO_H_

#include "absl/strings/string_view.h"
#include "store/http/http_server.h"
#include "store/injection/injection_registry.h"

namespace kvstore::store {

// The request's method, `path`, `table` and X-Test-Tag header; the row key is
// left for the caller, which knows where the API carries it.
RequestInfo RequestInfoOf(const HttpRequest& request, absl::string_view path,
                          absl::string_view table);

// `respond`, sending its answer as a kTransport verdict's fault says.
HttpHandler::Respond WithTransportFault(HttpHandler::Respond respond,
                                        const TransportFault& fault);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_REQUEST_INFO_H_
