// A TCP listener on 127.0.0.1 that never accepts or answers: connections
// complete in the kernel's backlog, requests go out, no response ever comes.
// Lets a test reach a client's timeout with no timing window.
#ifndef KVSTORE_TESTS_COMMON_SILENT_LISTENER_H_
#define KVSTORE_TESTS_COMMON_SILENT_LISTENER_H_

#include <cstdint>

namespace kvstore::testing {

class SilentListener {
 public:
  SilentListener();  // port() is 0 if it could not listen
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace kvstore::testing

#endif  // KVSTORE_TESTS_COMMON_SILENT_LISTENER_H_
