// libFuzzer target: data-API request bodies, JSON and binary protobuf,
// through the real router and handlers into an in-memory store (so filters
// are compiled and applied to stored rows, mutations validated and applied,
// row sets parsed). Input: [route byte][table byte][body]. The route byte
// picks the verb (low bits) and the body's encoding (bit 7). Every request
// must get an answer with a valid HTTP status, and nothing may crash.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace http = boost::beast::http;

struct Route {
  http::verb method;
  const char* verb;  // after ':'; "" for the table itself, "*" for /v1/tables
};

constexpr Route kRoutes[] = {
    {http::verb::post, "mutateRow"},
    {http::verb::post, "mutateRows"},
    {http::verb::post, "readRows"},
    {http::verb::post, "checkAndMutateRow"},
    {http::verb::post, "readModifyWriteRow"},
    {http::verb::get, "sampleRowKeys"},
    {http::verb::post, "*"},    // create a table
    {http::verb::get, ""},      // describe
    {http::verb::delete_, ""},  // delete (the store is rebuilt now and then)
    {http::verb::get, "*"},     // list
};

constexpr const char* kTables[] = {"t", "default", "missing", "t2"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* store = new kvstore::fuzz::InProcessStore();
  if (size < 2) return 0;
  const Route& route = kRoutes[(data[0] & 0x7f) % std::size(kRoutes)];
  const bool binary = data[0] & 0x80;
  const char* table = kTables[data[1] % std::size(kTables)];
  std::string target =
      std::string(route.verb) == "*"
          ? std::string("/v1/tables")
          : absl::StrCat("/v1/tables/", table,
                         *route.verb ? absl::StrCat(":", route.verb) : "");
  kvstore::store::HttpRequest request{route.method, target, 11};
  request.set(http::field::content_type,
              binary ? "application/x-protobuf" : "application/json");
  if (data[1] & 0x80) {
    request.set(http::field::accept,
                binary ? "application/json" : "application/x-protobuf");
  }
  request.body().assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  request.prepare_payload();
  store->Send(std::move(request));
  return 0;
}
