#include "store/api/request_info.h"

#include <string>

namespace kvstore::store {

RequestInfo RequestInfoOf(const HttpRequest& request, absl::string_view path,
                          absl::string_view table) {
  RequestInfo info;
  info.method = std::string(request.method_string());
  info.path = std::string(path);
  info.table = std::string(table);
  auto tag = request.find("X-Test-Tag");
  if (tag != request.end()) info.tag = std::string(tag->value());
  return info;
}

}  // namespace kvstore::store
