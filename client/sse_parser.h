// Private to the client: reading a Server-Sent-Events body (the store's
// error-injection event stream) as its bytes arrive.
//
// SseParser is not thread-safe (one per stream); the field readers are pure.
#ifndef KVSTORE_CLIENT_SSE_PARSER_H_
#define KVSTORE_CLIENT_SSE_PARSER_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"

namespace kvstore::internal {

// Splits the body into events: blocks ended by a blank line, made of
// `field: value` lines. `event` names the event ("message" if absent), `id`
// is its id, and several `data` lines join with '\n'; comment lines (':')
// and unknown fields are skipped.
class SseParser {
 public:
  using OnEvent = absl::FunctionRef<void(
      absl::string_view name, absl::string_view id, absl::string_view data)>;

  // Takes the next body bytes and calls `on_event` for each event they
  // complete, in order. An incomplete event waits for more bytes.
  void Feed(absl::string_view bytes, OnEvent on_event);

  // Bytes held for an incomplete event.
  size_t buffered() const { return buffer_.size(); }

 private:
  static void Dispatch(absl::string_view block, OnEvent on_event);

  std::string buffer_;
};

// The value of a top-level string field of an event's data, whose shape the
// store fixes: `"key":"value"` with JSON escapes; "" if absent or unended.
// Cheap on purpose: it runs for every event on the reader's thread.
std::string SseStringField(absl::string_view json, absl::string_view key);

// The value of a top-level unsigned field of an event's data (0 if absent or
// not a number).
uint64_t SseNumberField(absl::string_view json, absl::string_view key);

}  // namespace kvstore::internal

#endif  // KVSTORE_CLIENT_SSE_PARSER_H_
