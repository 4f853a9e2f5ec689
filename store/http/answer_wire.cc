#include "store/http/answer_wire.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "absl/strings/string_view.h"
#include "boost/beast/http/write.hpp"

namespace kvstore::store {
namespace http = boost::beast::http;

namespace {

constexpr absl::string_view kNotAChunkSize = "zz-not-a-size\r\n";

void AppendChunk(std::ostringstream& wire, const std::string& data) {
  wire << std::hex << data.size() << std::dec << "\r\n" << data << "\r\n";
}

}  // namespace

std::string AnswerWireBytes(HttpReply& reply, bool corrupt) {
  std::ostringstream wire;
  reply.response.set(http::field::server, "kvstore");
  if (reply.stream == nullptr && !corrupt) {
    reply.response.prepare_payload();
    wire << reply.response;
    return wire.str();
  }
  std::string body = std::move(reply.response.body());
  reply.response.body().clear();
  reply.response.chunked(true);
  wire << reply.response.base();
  if (corrupt) {  // half the body's first piece, then the bad line
    if (reply.stream != nullptr) {
      ChunkSource::Piece piece = reply.stream->Next();
      body = piece.ok() && piece->has_value() ? **std::move(piece) : "";
    }
    if (body.size() > 1) AppendChunk(wire, body.substr(0, body.size() / 2));
    wire << kNotAChunkSize;
    return wire.str();
  }
  for (;;) {
    ChunkSource::Piece piece = reply.stream->Next();
    if (!piece.ok()) return wire.str();  // the stream would be cut here
    if (!piece->has_value()) break;
    if (!(*piece)->empty()) AppendChunk(wire, **piece);
  }
  wire << "0\r\n\r\n";
  return wire.str();
}

size_t CutPoint(const std::string& bytes, int64_t after_bytes) {
  if (after_bytes >= 0) {
    return std::min(bytes.size(), static_cast<size_t>(after_bytes));
  }
  const size_t head = bytes.find("\r\n\r\n");
  const size_t head_end = head == std::string::npos ? 0 : head + 4;
  return bytes.size() > head_end ? head_end + (bytes.size() - head_end) / 2
                                 : bytes.size() / 2;
}

}  // namespace kvstore::store
