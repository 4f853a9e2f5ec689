// The request journal: one entry per request the store answered (not only
// those at armed points), on the same sequence and in the same bounded
// history as the injection events, so a test reads attempts and faults in
// one order. An entry's data:
//   {"seq", "phase":"request", "ts", "ts_us", "connection", "method",
//    "path", "route", "table", "row_keys":[...], "tag", "status", "cut",
//    "bytes_in", "bytes_out", "start_us", "end_us", "injections":[...]}
// `injections` lists the points that fired on the request (delays and
// pauses included), attributed by connection (a connection's requests are
// answered one at a time); storage.write, which runs in the commit queue
// below any request, is not attributed. Bytes are counted on the wire:
// request head and body as read, answer as written.
//
// Thread-safe.
#ifndef KVSTORE_STORE_INJECTION_REQUEST_JOURNAL_H_
#define KVSTORE_STORE_INJECTION_REQUEST_JOURNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/injection/injection_events.h"

namespace kvstore::store {

struct JournalEntry {
  uint64_t connection_id = 0;
  std::string method;
  std::string path;  // without the query
  std::string route;
  std::string table;
  std::vector<std::string> row_keys;
  std::string tag;
  int http_status = 0;  // 0: closed without an answer
  bool cut = false;     // the answer was not sent whole
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  absl::Time start;
  absl::Time end;
};

class RequestJournal {
 public:
  // `events` is not owned and outlives the journal.
  explicit RequestJournal(InjectionEvents* events) : events_(events) {}

  // Point `point` fired on the request now being answered on connection
  // `connection_id` (0: none known; ignored).
  void NoteFired(uint64_t connection_id, absl::string_view point);

  // Publishes the entry, with the points noted for its connection since its
  // previous entry. Returns its seq.
  uint64_t Record(const JournalEntry& entry);

 private:
  InjectionEvents* const events_;
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::vector<std::string>> fired_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_INJECTION_REQUEST_JOURNAL_H_
