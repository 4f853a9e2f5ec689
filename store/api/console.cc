#include "store/api/console.h"

#include <string>

#include "store/api/responses.h"

namespace kvstore::store {
namespace http = boost::beast::http;

HttpReply ConsoleReply(const HttpRequest& request, absl::string_view path) {
  if (request.method() != http::verb::get &&
      request.method() != http::verb::head) {
    HttpResponse res = BodyResponse(405, "the console is read with GET\n");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  if (path == "/console/") path = "/console";
  for (const ConsoleFile& file : ConsoleFiles()) {
    if (file.path != path) continue;
    HttpResponse res =
        BodyResponse(200, std::string(file.bytes), file.content_type);
    // The page is built into this binary: a new binary may serve another.
    res.set(http::field::cache_control, "no-cache");
    return res;
  }
  return BodyResponse(404, "no such console file\n");
}

}  // namespace kvstore::store
