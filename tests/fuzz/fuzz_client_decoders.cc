// libFuzzer target: the C++ client's decoders of what a store sends back.
// Input: [mode byte][chunk byte][bytes]. Mode 0 feeds the bytes to the
// readRows stream reader (RowStreamSink) in pieces of 1 + chunk bytes, then
// asks for the call's outcome; mode 1 reads them as an error body with
// ErrorFromResponse under several statuses and content types; mode 2 feeds
// them to the Server-Sent-Events parser in pieces and reads each event's
// fields. Whatever the bytes, the decoders must not crash, an error body must
// never read as OK, and the SSE parser must hold no event once a blank line
// ends the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "client/sse_parser.h"
#include "client/wire.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using kvstore::fuzz::Check;

template <typename Fn>
void InPieces(absl::string_view bytes, size_t piece, Fn feed) {
  while (!bytes.empty()) {
    absl::string_view next = bytes.substr(0, piece);
    bytes.remove_prefix(next.size());
    if (!feed(next)) return;
  }
}

void RowStream(absl::string_view bytes, size_t piece) {
  int rows = 0;
  auto on_row = [&](kvstore::v1::Row row) {
    Check(row.ByteSizeLong() <= bytes.size(), "a row larger than its input");
    return ++rows < 1000;
  };
  kvstore::internal::RowStreamSink sink(on_row);  // keeps a reference
  sink.OnHead({200, "application/x-protobuf", std::nullopt});
  absl::Status fed;
  InPieces(bytes, piece, [&](absl::string_view next) {
    fed = sink.OnBody(next);
    return fed.ok();
  });
  (void)sink.Outcome(fed);
}

void ErrorBodies(absl::string_view bytes) {
  for (int status : {400, 404, 429, 500, 503, 507, 302, 200}) {
    for (absl::string_view type :
         {"application/json", "application/x-protobuf", "text/plain", ""}) {
      absl::Status error =
          kvstore::internal::ErrorFromResponse(status, type, bytes);
      if (status != 200) Check(!error.ok(), "an error answer read as OK");
    }
  }
}

void Sse(absl::string_view bytes, size_t piece) {
  kvstore::internal::SseParser parser;
  auto on_event = [&](absl::string_view name, absl::string_view id,
                      absl::string_view data) {
    // (An event without a name is a "message".)
    Check(name.size() + id.size() + data.size() <= bytes.size() + 7,
          "an event outgrew its input");
    (void)kvstore::internal::SseStringField(data, "injection");
    (void)kvstore::internal::SseStringField(data, "type");
    (void)kvstore::internal::SseNumberField(data, "current_seq");
  };
  InPieces(bytes, piece, [&](absl::string_view next) {
    parser.Feed(next, on_event);
    return true;
  });
  parser.Feed("\n\n", on_event);
  Check(parser.buffered() <= 1, "an event held after a blank line");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  absl::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t piece = 1 + data[1];
  switch (data[0] % 3) {
    case 0:
      RowStream(bytes, piece);
      break;
    case 1:
      ErrorBodies(bytes);
      break;
    default:
      Sse(bytes, piece);
      break;
  }
  return 0;
}
