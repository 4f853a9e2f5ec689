// The store's console (GET /console, with --error_injection): one page and
// its script and style, written in console/ and embedded in the binary at
// build time (console/embed.cmake), so the store serves them with nothing
// else to install and the page loads nothing from elsewhere.
//
// Pure functions over constant data; thread-safe.
#ifndef KVSTORE_STORE_API_CONSOLE_H_
#define KVSTORE_STORE_API_CONSOLE_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "store/http/http_server.h"

namespace kvstore::store {

struct ConsoleFile {
  absl::string_view path;  // "/console", "/console/console.js", ...
  absl::string_view content_type;
  absl::string_view bytes;
};

// Every file of the console (generated: console_files.cc in the build).
const std::vector<ConsoleFile>& ConsoleFiles();

// The answer to `request` for `path` (under /console): the file, 405 for a
// method other than GET or HEAD, 404 for a path it does not have.
HttpReply ConsoleReply(const HttpRequest& request, absl::string_view path);

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_API_CONSOLE_H_
