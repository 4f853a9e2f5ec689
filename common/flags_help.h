// --help for the binaries: abseil lists the flags of files named after the
// binary, and ours are all defined in a main.cc, so by default --help printed
// "No flags matched".
//
// Call from main() before absl::ParseCommandLine. Not thread-safe (sets
// abseil's process-wide usage configuration).
#ifndef KVSTORE_COMMON_FLAGS_HELP_H_
#define KVSTORE_COMMON_FLAGS_HELP_H_

#include "absl/strings/string_view.h"

namespace kvstore {

// Makes --help and --helpshort list the flags defined in source files whose
// path ends with `main_file` (e.g. "store/server/main.cc").
void HelpListsFlagsOf(absl::string_view main_file);

}  // namespace kvstore

#endif  // KVSTORE_COMMON_FLAGS_HELP_H_
