// Links kvstore::client from an install tree and makes one call: against a
// port nobody listens on it must fail UNAVAILABLE (the client's contract for a
// refused connection), which proves the library works, not only links.
#include <cstdio>
#include <memory>

#include "client/client.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer ip:port\n");
    return 2;
  }
  kvstore::ClientOptions options;
  options.endpoint = argv[1];
  options.retry.max_attempts = 1;
  auto client = kvstore::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "Create: %s\n", client.status().ToString().c_str());
    return 1;
  }
  absl::Status status = (*client)->MutateRow(
      "default", "row", {kvstore::SetCell("cf", "q", "value")});
  std::printf("MutateRow: %s\n", status.ToString().c_str());
  return status.code() == absl::StatusCode::kUnavailable ? 0 : 1;
}
