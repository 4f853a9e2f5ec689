// The HTTP server's ExchangeSink that turns each answered request into an
// entry of the request journal (store/injection/request_journal.h), with its
// route, table and row keys as the store's APIs name them.
//
// The journal is not owned and outlives the sink. Thread-safe.
#ifndef KVSTORE_STORE_API_JOURNAL_SINK_H_
#define KVSTORE_STORE_API_JOURNAL_SINK_H_

#include "store/http/http_server.h"
#include "store/injection/request_journal.h"

namespace kvstore::store {

class JournalSink final : public ExchangeSink {
 public:
  explicit JournalSink(RequestJournal* journal) : journal_(journal) {}
  void ExchangeDone(Exchange exchange) override;

 private:
  RequestJournal* const journal_;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_JOURNAL_SINK_H_
