// A temporary directory removed (recursively) when the object is destroyed. Not
// thread-safe.
#ifndef KVSTORE_TESTS_COMMON_TEMP_DIR_H_
#define KVSTORE_TESTS_COMMON_TEMP_DIR_H_

#include <string>

namespace kvstore::testing {

class TempDir {
 public:
  // Creates a fresh directory under $TMPDIR (or /tmp). Aborts the test binary
  // on failure.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace kvstore::testing

#endif  // KVSTORE_TESTS_COMMON_TEMP_DIR_H_
