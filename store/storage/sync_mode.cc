#include "store/storage/sync_mode.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kvstore::store {

absl::StatusOr<SyncMode> ParseSyncMode(absl::string_view text) {
  if (text == "always") return SyncMode::kAlways;
  if (text == "everysec") return SyncMode::kEverySecond;
  if (text == "never") return SyncMode::kNever;
  return absl::InvalidArgumentError(absl::StrCat(
      "fsync mode must be always, everysec or never, not '", text, "'"));
}

absl::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kAlways:
      return "always";
    case SyncMode::kEverySecond:
      return "everysec";
    case SyncMode::kNever:
      return "never";
  }
  return "unknown";
}

}  // namespace kvstore::store
