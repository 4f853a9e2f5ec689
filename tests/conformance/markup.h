// Escaping for the harness's reports: XML (the JUnit file) and HTML (the
// timeline pages) alike.
//
// Pure function; thread-safe.
#ifndef KVSTORE_TESTS_CONFORMANCE_MARKUP_H_
#define KVSTORE_TESTS_CONFORMANCE_MARKUP_H_

#include <string>

#include "absl/strings/string_view.h"

namespace kvstore::conformance {

// `text` with & < > " as entities, and control characters other than tab
// and newline (which XML 1.0 forbids) as spaces.
std::string XmlEscaped(absl::string_view text);

}  // namespace kvstore::conformance

#endif  // KVSTORE_TESTS_CONFORMANCE_MARKUP_H_
