#include "store/injection/request_journal.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kvstore::store {
namespace {

std::string QuotedList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  quoted.reserve(items.size());
  for (const std::string& item : items) quoted.push_back(JsonQuote(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

}  // namespace

void RequestJournal::NoteFired(uint64_t connection_id,
                               absl::string_view point) {
  if (connection_id == 0) return;
  absl::MutexLock lock(&mu_);
  fired_[connection_id].emplace_back(point);
}

uint64_t RequestJournal::Record(const JournalEntry& e) {
  std::vector<std::string> fired;
  {
    absl::MutexLock lock(&mu_);
    if (!fired_.empty()) {
      auto it = fired_.find(e.connection_id);
      if (it != fired_.end()) {
        fired = std::move(it->second);
        fired_.erase(it);
      }
    }
  }
  std::string fields = absl::StrCat(
      ",\"connection\":", e.connection_id, ",\"method\":", JsonQuote(e.method),
      ",\"path\":", JsonQuote(e.path), ",\"route\":", JsonQuote(e.route),
      ",\"table\":", JsonQuote(e.table),
      ",\"row_keys\":", QuotedList(e.row_keys), ",\"tag\":", JsonQuote(e.tag),
      ",\"status\":", e.http_status, ",\"cut\":", e.cut ? "true" : "false",
      ",\"bytes_in\":", e.bytes_in, ",\"bytes_out\":", e.bytes_out,
      ",\"start_us\":", absl::ToUnixMicros(e.start),
      ",\"end_us\":", absl::ToUnixMicros(e.end),
      ",\"injections\":", QuotedList(fired));
  return events_->PublishEntry(e.tag, e.route, e.table, fields);
}

}  // namespace kvstore::store
