#include "store/api/request_info.h"

#include <string>

#include "absl/strings/numbers.h"

namespace kvstore::store {

RequestInfo RequestInfoOf(const HttpRequest& request, absl::string_view path,
                          absl::string_view table) {
  RequestInfo info;
  info.method = std::string(request.method_string());
  info.path = std::string(path);
  info.table = std::string(table);
  auto tag = request.find("X-Test-Tag");
  if (tag != request.end()) info.tag = std::string(tag->value());
  auto connection = request.find(boost::beast::string_view(
      kConnectionIdField.data(), kConnectionIdField.size()));
  if (connection != request.end()) {
    if (!absl::SimpleAtoi(absl::string_view(connection->value().data(),
                                            connection->value().size()),
                          &info.connection_id)) {
      info.connection_id = 0;
    }
  }
  return info;
}

}  // namespace kvstore::store
