#include "store/api/journal_sink.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "store/api/request_router.h"
#include "store/api/seed_query.h"
#include "store/api/seed_table.h"

namespace kvstore::store {
namespace {

// The seed API's table and key: /get?key=K reads K, /set?K=V writes K.
void NoteSeedKey(Route route, absl::string_view query, ExchangeNote* note) {
  absl::StatusOr<SeedQuery> seed = ParseSeedQuery(query);
  note->table = std::string(kDefaultTable);
  if (!seed.ok()) return;
  note->row_keys.push_back(route == Route::kSeedGet && seed->field == "key"
                               ? seed->value
                               : seed->field);
}

}  // namespace

void JournalSink::ExchangeDone(Exchange exchange) {
  absl::string_view target = exchange.target;
  const size_t question = target.find('?');
  absl::string_view path = target.substr(0, question);
  const Route route = RouteOfPath(path);
  JournalEntry entry;
  if (route == Route::kSeedGet || route == Route::kSeedSet) {
    NoteSeedKey(route,
                question == absl::string_view::npos
                    ? absl::string_view()
                    : target.substr(question + 1),
                &exchange.note);
  } else if (absl::StartsWith(path, "/v1/")) {
    absl::StatusOr<DataPath> parsed = ParseDataPath(path);
    if (parsed.ok()) entry.table = parsed->table;
  }
  if (!exchange.note.table.empty()) entry.table = exchange.note.table;
  entry.connection_id = exchange.connection_id;
  entry.method = std::move(exchange.method);
  entry.path = std::string(path);
  entry.route = std::string(RouteName(route));
  entry.row_keys = std::move(exchange.note.row_keys);
  entry.tag = std::move(exchange.tag);
  entry.http_status = exchange.http_status;
  entry.cut = exchange.cut;
  entry.bytes_in = exchange.bytes_in;
  entry.bytes_out = exchange.bytes_out;
  entry.start = exchange.start;
  entry.end = exchange.end;
  journal_->Record(entry);
}

}  // namespace kvstore::store
