// Private to the HTTP server: an answer as the bytes it puts on the wire, for
// the transport faults (AnswerFault) that send those bytes wrong.
//
// Pure functions; a stream's source is drained on the caller's thread.
#ifndef KVSTORE_STORE_HTTP_ANSWER_WIRE_H_
#define KVSTORE_STORE_HTTP_ANSWER_WIRE_H_

#include <cstdint>
#include <string>

#include "store/http/http_server.h"

namespace kvstore::store {

// The whole answer: a response with Content-Length, or a stream's head and
// every piece as a chunk, then the last chunk (a stream that fails stops
// where it failed). With `corrupt`, instead: the head with chunked encoding,
// a chunk with the first half of the body (a stream's first piece), so that
// no answer is ever complete, and a chunk-size line that is not hex.
std::string AnswerWireBytes(HttpReply& reply, bool corrupt);

// How many of `bytes` to send before cutting: `after_bytes` (at most all of
// them), or with -1 the whole head and half the body (half the head when
// there is no body).
size_t CutPoint(const std::string& bytes, int64_t after_bytes);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_HTTP_ANSWER_WIRE_H_
