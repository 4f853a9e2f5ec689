#include "store/api/request_info.h"

#include <string>
#include <utility>

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

namespace {

AnswerFault::Kind AnswerFaultKind(InjectAction action) {
  switch (action) {
    case InjectAction::kSlow:
      return AnswerFault::kSlow;
    case InjectAction::kStall:
      return AnswerFault::kStall;
    case InjectAction::kCorruptChunk:
      return AnswerFault::kCorruptChunk;
    case InjectAction::kDelayHeaders:
      return AnswerFault::kDelayHeaders;
    default:
      return AnswerFault::kReset;
  }
}

}  // namespace

HttpHandler::Respond WithTransportFault(HttpHandler::Respond respond,
                                        const TransportFault& fault) {
  AnswerFault answer;
  answer.kind = AnswerFaultKind(fault.action);
  answer.after_bytes = fault.after_bytes;
  answer.bytes_per_s = fault.bytes_per_s;
  answer.timeout = fault.timeout;
  answer.delay = fault.delay;
  return [respond = std::move(respond), answer](HttpReply reply) mutable {
    reply.fault = answer;
    std::move(respond)(std::move(reply));
  };
}

}  // namespace kvstore::store
