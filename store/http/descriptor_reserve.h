// What the HTTP server does when accept() fails for want of file descriptors
// (EMFILE, ENFILE) or kernel memory: such a failure repeats at once until a
// descriptor is freed, so retrying immediately would spin (tens of thousands
// of failed calls a second) while the waiting client gets no answer.
//
// DescriptorReserve holds one spare descriptor. On a shortage the server
// spends it to accept one waiting connection, answers it 503 and closes it
// (so the client hears "retry later" instead of nothing), then takes the
// spare back; when it cannot, the server pauses accepting for a while
// (AcceptBackoff).
//
// Thread-compatible: used by the acceptor's thread only.
#ifndef KVSTORE_STORE_HTTP_DESCRIPTOR_RESERVE_H_
#define KVSTORE_STORE_HTTP_DESCRIPTOR_RESERVE_H_

#include <chrono>

#include "absl/strings/string_view.h"
#include "boost/system/error_code.hpp"

namespace kvstore::store {

// True for accept() errors that mean the process or the system is out of
// descriptors or memory.
bool IsResourceShortage(const boost::system::error_code& ec);

class DescriptorReserve {
 public:
  DescriptorReserve();  // opens the spare (/dev/null); may fail: then none
  ~DescriptorReserve();
  DescriptorReserve(const DescriptorReserve&) = delete;
  DescriptorReserve& operator=(const DescriptorReserve&) = delete;

  // Frees the spare, accepts one connection waiting on `listen_fd`, writes
  // `response` to it (whatever part of it fits without blocking), closes it,
  // and takes the spare back. True if a connection was answered and the
  // spare is held again, so accepting may go on at once.
  bool RefuseOne(int listen_fd, absl::string_view response);

 private:
  int spare_ = -1;
};

// The pause before the next accept after a shortage: 10 ms, doubling up to
// one second, back to 10 ms after an accept succeeds.
class AcceptBackoff {
 public:
  std::chrono::milliseconds Next();
  void Reset() { next_ = kFirst; }

 private:
  static constexpr std::chrono::milliseconds kFirst{10};
  static constexpr std::chrono::milliseconds kMax{1000};
  std::chrono::milliseconds next_ = kFirst;
};

}  // namespace kvstore::store

#endif  // KVSTORE_STORE_HTTP_DESCRIPTOR_RESERVE_H_
