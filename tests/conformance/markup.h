// The harness's reports: escaping for XML (the JUnit file) and HTML (the
// timeline pages) alike, and writing a report file.
//
// Thread-safe.
#ifndef KVSTORE_TESTS_CONFORMANCE_MARKUP_H_
#define KVSTORE_TESTS_CONFORMANCE_MARKUP_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kvstore::conformance {

// `text` with & < > " as entities, and control characters other than tab
// and newline (which XML 1.0 forbids) as spaces.
std::string XmlEscaped(absl::string_view text);

// Writes `text` to `path` (replacing it); false if it cannot.
bool WriteTextFile(const std::string& path, absl::string_view text);

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_MARKUP_H_
