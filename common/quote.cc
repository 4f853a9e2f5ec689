#include "common/quote.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace kvstore {
namespace {

// The longest prefix of `text` of at most `limit` bytes that does not end
// inside a UTF-8 sequence.
absl::string_view CutAt(absl::string_view text, size_t limit) {
  size_t end = 0;
  while (end < text.size()) {
    size_t length = Utf8SequenceLength(text.substr(end));
    if (length == 0) length = 1;  // a stray byte stands alone
    if (end + length > limit) break;
    end += length;
  }
  return text.substr(0, end);
}

}  // namespace

std::string Quote(absl::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", CutAt(text, kMaxQuotedBytes), "...' (", text.size(),
                      " bytes)");
}

}  // namespace kvstore
