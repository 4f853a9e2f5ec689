// Writing a server's bound port to a file, for the scripts and tests that
// start it with port 0.
//
// Thread-safe (no shared state).
#ifndef KVSTORE_COMMON_PORT_FILE_H_
#define KVSTORE_COMMON_PORT_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace kvstore {

// Writes "<port>\n" to `path + ".tmp"`, then renames it to `path`, so a reader
// never sees a partial number. Internal, naming the path and errno's text, if
// either step fails.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_PORT_FILE_H_
