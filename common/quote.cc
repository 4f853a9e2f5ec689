#include "common/quote.h"

#include "absl/strings/str_cat.h"

namespace kvstore {

std::string Quote(absl::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMaxQuotedBytes), "...' (",
                      text.size(), " bytes)");
}

}  // namespace kvstore
