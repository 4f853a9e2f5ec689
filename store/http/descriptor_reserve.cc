#include "store/http/descriptor_reserve.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "boost/asio/error.hpp"

namespace kvstore::store {
namespace {

int OpenSpare() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

// Reads what the client already sent, so that closing does not reset the
// connection (and drop the answer) because of unread data.
void DrainReceived(int fd) {
  char scratch[16 * 1024];
  for (int i = 0; i < 8; ++i) {
    if (::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0) return;
  }
}

}  // namespace

bool IsResourceShortage(const boost::system::error_code& ec) {
  namespace error = boost::asio::error;
  return ec == error::no_descriptors ||  // EMFILE
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == error::no_buffer_space || ec == error::no_memory;
}

DescriptorReserve::DescriptorReserve() : spare_(OpenSpare()) {}

DescriptorReserve::~DescriptorReserve() {
  if (spare_ >= 0) ::close(spare_);
}

bool DescriptorReserve::RefuseOne(int listen_fd, absl::string_view response) {
  if (spare_ < 0) spare_ = OpenSpare();  // a descriptor may be free again
  if (spare_ < 0) return false;
  ::close(spare_);
  spare_ = -1;
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    DrainReceived(fd);
    ssize_t sent = ::send(fd, response.data(), response.size(),
                          MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)sent;  // best effort: the connection is closed either way
    ::shutdown(fd, SHUT_WR);
    DrainReceived(fd);
    ::close(fd);
  }
  spare_ = OpenSpare();
  return fd >= 0 && spare_ >= 0;
}

std::chrono::milliseconds AcceptBackoff::Next() {
  std::chrono::milliseconds now = next_;
  next_ = std::min(next_ * 2, kMax);
  return now;
}

}  // namespace kvstore::store
