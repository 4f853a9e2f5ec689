// libFuzzer target: arming error-injection points over the control API
// (store/api/injection_api.h), in process. Input: [point byte][method
// byte][query]\n[body]: the request goes to /v2/error_injection/injection/
// {point}?{query} with the body as its parameters (JSON or a query string),
// then the point's state is read back and everything is disarmed, so no
// armed fault (crash included) ever fires here. Every request must be
// answered with a JSON body and a valid status.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "store/api/injection_api.h"
#include "store/injection/injection_registry.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace http = boost::beast::http;
using kvstore::fuzz::Check;
using kvstore::store::HttpReply;
using kvstore::store::HttpRequest;

constexpr http::verb kMethods[] = {http::verb::post, http::verb::get,
                                   http::verb::delete_};

int Serve(kvstore::store::InjectionApi& api, http::verb method,
          const std::string& path, absl::string_view query,
          absl::string_view body) {
  HttpRequest request{
      method, query.empty() ? path : absl::StrCat(path, "?", query), 11};
  request.body().assign(body.data(), body.size());
  request.prepare_payload();
  std::optional<HttpReply> reply;
  api.Handle(request, path, query,
             [&](HttpReply r) { reply.emplace(std::move(r)); });
  Check(reply.has_value(), "no synchronous answer");
  const int status = static_cast<int>(reply->response.result_int());
  Check(status >= 200 && status <= 599, "bad HTTP status");
  return status;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* registry = [] {
    kvstore::store::InjectionOptions options;
    options.events.history = 100;  // arming events carry the parameters
    return kvstore::store::InjectionRegistry::Create(options).release();
  }();
  static auto* api = new kvstore::store::InjectionApi(registry);
  if (size < 2) return 0;
  const auto& catalog = kvstore::store::InjectionRegistry::Catalog();
  // One index past the catalog: an unknown name from the input itself.
  absl::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  size_t newline = rest.find('\n');
  absl::string_view query = rest.substr(0, newline);
  absl::string_view body =
      newline == absl::string_view::npos ? "" : rest.substr(newline + 1);
  std::string name =
      data[0] % (catalog.size() + 1) < catalog.size()
          ? std::string(catalog[data[0] % (catalog.size() + 1)].name)
          : std::string(query.substr(0, 16));
  const std::string path =
      absl::StrCat(kvstore::store::kInjectionPathPrefix, "/injection/", name);
  Serve(*api, kMethods[data[1] % std::size(kMethods)], path, query, body);
  Serve(*api, http::verb::get, path, "", "");
  registry->DisarmAll();
  return 0;
}
