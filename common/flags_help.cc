#include "common/flags_help.h"

#include <string>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace kvstore {

void HelpListsFlagsOf(absl::string_view main_file) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags =
      [file = std::string(main_file)](absl::string_view path) {
        return absl::EndsWith(path, file);
      };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
}

}  // namespace kvstore
