// The data API over HTTP against the real binary, in both encodings: table
// administration, :mutateRow, and the {code, message} errors with their HTTP
// statuses.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kvstore/v1/store.pb.h"
#include "store/api/api_codec.h"
#include "tests/common/http_test_client.h"
#include "tests/common/server_process.h"
#include "tests/common/status_matchers.h"
#include "tests/common/temp_dir.h"

using ::kvstore::testing::IsOk;

namespace kvstore {
namespace {

using store::Encoding;
using ::testing::HasSubstr;
using testing::HttpResult;
using testing::HttpTestClient;
using testing::ServerProcess;

class DataApiTest : public ::testing::TestWithParam<Encoding> {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY,
                                       {"--data_dir=" + dir_.File("db")});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto client = HttpTestClient::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  Encoding encoding() const { return GetParam(); }

  HttpResult Call(const std::string& method, const std::string& target,
                  const google::protobuf::Message* body = nullptr) {
    std::string type(store::ContentTypeOf(encoding()));
    auto res = client_->Request(
        method, target,
        body == nullptr ? "" : store::SerializeMessage(*body, encoding()),
        {{"Content-Type", type}, {"Accept", type}});
    EXPECT_TRUE(res.ok()) << res.status();
    return res.ok() ? *res : HttpResult{};
  }

  template <typename M>
  M Parse(const HttpResult& res) {
    M message;
    absl::Status parsed = store::ParseMessage(res.body, encoding(), &message);
    EXPECT_TRUE(parsed.ok()) << parsed << " in " << res.body;
    return message;
  }

  // Expects an error answer with this HTTP status and canonical code.
  void ExpectError(const HttpResult& res, int http_status,
                   absl::StatusCode code, const std::string& message_part) {
    EXPECT_EQ(res.status, http_status) << res.body;
    auto status = Parse<v1::Status>(res);
    EXPECT_EQ(status.code(), static_cast<int>(code)) << res.body;
    EXPECT_THAT(status.message(), HasSubstr(message_part));
    EXPECT_EQ(res.headers.at("content-type"),
              std::string(store::ContentTypeOf(encoding())));
  }

  static v1::CreateTableRequest CreateRequest(const std::string& name) {
    v1::CreateTableRequest request;
    request.mutable_table()->set_name(name);
    auto* family = request.mutable_table()->add_column_families();
    family->set_name("f");
    family->mutable_gc_rule()->set_max_versions(3);
    return request;
  }

  static v1::MutateRowRequest SetCell(const std::string& row,
                                      const std::string& family,
                                      const std::string& value) {
    v1::MutateRowRequest request;
    request.set_row_key(row);
    auto* set = request.add_mutations()->mutable_set_cell();
    set->set_family_name(family);
    set->set_timestamp_micros(-1);
    set->set_value(value);
    return request;
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST_P(DataApiTest, TableLifecycle) {
  auto create = CreateRequest("users");
  HttpResult created = Call("POST", "/v1/tables", &create);
  EXPECT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(Parse<v1::Table>(created).name(), "users");

  auto list = Parse<v1::ListTablesResponse>(Call("GET", "/v1/tables"));
  ASSERT_EQ(list.tables_size(), 2);
  EXPECT_EQ(list.tables(0).name(), "default");
  EXPECT_EQ(list.tables(1).name(), "users");

  auto described = Parse<v1::Table>(Call("GET", "/v1/tables/users"));
  EXPECT_EQ(described.column_families(0).gc_rule().max_versions(), 3);

  ExpectError(Call("POST", "/v1/tables", &create), 409,
              absl::StatusCode::kAlreadyExists, "users");
  EXPECT_EQ(Call("DELETE", "/v1/tables/users").status, 200);
  ExpectError(Call("GET", "/v1/tables/users"), 404, absl::StatusCode::kNotFound,
              "users");
  ExpectError(Call("DELETE", "/v1/tables/default"), 412,
              absl::StatusCode::kFailedPrecondition, "default");
}

TEST_P(DataApiTest, BadTableNamesAre400) {
  auto create = CreateRequest("no spaces");
  ExpectError(Call("POST", "/v1/tables", &create), 400,
              absl::StatusCode::kInvalidArgument, "table.name");
}

TEST_P(DataApiTest, MutateRowWritesAtomically) {
  auto set = SetCell("k", "cf", "from-the-data-api");
  EXPECT_EQ(Call("POST", "/v1/tables/default:mutateRow", &set).status, 200);
  // The seed API is a view on the same table.
  EXPECT_EQ(client_->Get("/get?key=k")->body, "from-the-data-api");

  // A request whose last mutation names an unknown family changes nothing.
  auto bad = SetCell("k", "cf", "must-not-appear");
  *bad.add_mutations() = SetCell("k", "nope", "x").mutations(0);
  ExpectError(Call("POST", "/v1/tables/default:mutateRow", &bad), 404,
              absl::StatusCode::kNotFound, "mutations[1].family");
  EXPECT_EQ(client_->Get("/get?key=k")->body, "from-the-data-api");
}

TEST_P(DataApiTest, MutateRowBadInputIs400NotInternal) {
  v1::MutateRowRequest empty;
  empty.set_row_key("k");
  ExpectError(Call("POST", "/v1/tables/default:mutateRow", &empty), 400,
              absl::StatusCode::kInvalidArgument, "no mutations");
  v1::MutateRowRequest unset = empty;
  unset.add_mutations();
  ExpectError(Call("POST", "/v1/tables/default:mutateRow", &unset), 400,
              absl::StatusCode::kInvalidArgument, "mutations[0]");
  auto no_key = SetCell("", "cf", "v");
  ExpectError(Call("POST", "/v1/tables/default:mutateRow", &no_key), 400,
              absl::StatusCode::kInvalidArgument, "row key");
  auto no_table = SetCell("k", "cf", "v");
  ExpectError(Call("POST", "/v1/tables/missing:mutateRow", &no_table), 404,
              absl::StatusCode::kNotFound, "missing");
}

// Splits a readRows body into its messages.
std::vector<v1::ReadRowsResponse> ParseStream(const std::string& body,
                                              Encoding encoding) {
  std::vector<v1::ReadRowsResponse> out;
  size_t pos = 0;
  while (pos < body.size()) {
    v1::ReadRowsResponse message;
    if (encoding == Encoding::kJson) {
      size_t eol = body.find('\n', pos);
      EXPECT_NE(eol, std::string::npos);
      if (eol == std::string::npos) break;
      EXPECT_THAT(
          store::ParseMessage(body.substr(pos, eol - pos), encoding, &message),
          IsOk());
      pos = eol + 1;
    } else {
      uint64_t size = 0;
      int shift = 0;
      while (pos < body.size()) {
        uint8_t byte = static_cast<uint8_t>(body[pos++]);
        size |= static_cast<uint64_t>(byte & 0x7f) << shift;
        shift += 7;
        if ((byte & 0x80) == 0) break;
      }
      EXPECT_LE(pos + size, body.size());
      EXPECT_TRUE(
          message.ParseFromArray(body.data() + pos, static_cast<int>(size)));
      pos += size;
    }
    out.push_back(std::move(message));
  }
  return out;
}

TEST_P(DataApiTest, TooManyMutationsInOneRequestIs400) {
  v1::MutateRowRequest request;
  request.set_row_key("k");
  for (int i = 0; i < 100001; ++i) {
    request.add_mutations()->mutable_delete_from_row();
  }
  ExpectError(Call("POST", "/v1/tables/default:mutateRow", &request), 400,
              absl::StatusCode::kInvalidArgument, "100000");
  request.mutable_mutations()->RemoveLast();  // exactly the limit is fine
  EXPECT_EQ(Call("POST", "/v1/tables/default:mutateRow", &request).status, 200);
}

TEST_P(DataApiTest, LargeBinaryValuesRoundTripExactly) {
  std::string value(3 * 1024 * 1024, '\0');
  for (size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  }
  const std::string key("bin\0\xff\x80", 6);
  auto set = SetCell(key, "cf", value);
  ASSERT_EQ(Call("POST", "/v1/tables/default:mutateRow", &set).status, 200);
  v1::ReadRowsRequest read;
  read.mutable_rows()->add_row_keys(key);
  HttpResult res = Call("POST", "/v1/tables/default:readRows", &read);
  ASSERT_EQ(res.status, 200);
  std::vector<v1::ReadRowsResponse> messages =
      ParseStream(res.body, encoding());
  ASSERT_EQ(messages.size(), 2u);
  ASSERT_EQ(messages[0].row().families_size(), 1);
  EXPECT_EQ(messages[0].row().key(), key);
  const std::string& got =
      messages[0].row().families(0).columns(0).cells(0).value();
  EXPECT_EQ(got.size(), value.size());
  EXPECT_TRUE(got == value);  // not EXPECT_EQ: no 3 MiB diff on failure
}

TEST_P(DataApiTest, SampleRowKeysOverHttp) {
  auto create = CreateRequest("t");
  ASSERT_EQ(Call("POST", "/v1/tables", &create).status, 200);
  HttpResult empty = Call("GET", "/v1/tables/t:sampleRowKeys");
  ASSERT_EQ(empty.status, 200) << empty.body;
  auto samples = Parse<v1::SampleRowKeysResponse>(empty);
  ASSERT_EQ(samples.samples_size(), 1);  // an empty table: just the end
  EXPECT_EQ(samples.samples(0).row_key(), "");
  EXPECT_EQ(samples.samples(0).offset_bytes(), 0);
  for (int i = 0; i < 50; ++i) {
    auto set = SetCell("row" + std::to_string(i), "f", std::string(1000, 'x'));
    ASSERT_EQ(Call("POST", "/v1/tables/t:mutateRow", &set).status, 200);
  }
  samples = Parse<v1::SampleRowKeysResponse>(
      Call("GET", "/v1/tables/t:sampleRowKeys"));
  ASSERT_GE(samples.samples_size(), 1);
  EXPECT_EQ(samples.samples(samples.samples_size() - 1).row_key(), "");
  EXPECT_GT(samples.samples(samples.samples_size() - 1).offset_bytes(), 0);
  for (int i = 1; i < samples.samples_size(); ++i) {
    EXPECT_GE(samples.samples(i).offset_bytes(),
              samples.samples(i - 1).offset_bytes());
  }
  ExpectError(Call("GET", "/v1/tables/missing:sampleRowKeys"), 404,
              absl::StatusCode::kNotFound, "missing");
}

TEST_P(DataApiTest, LargeReadRowsResultsAreChunked) {
  auto create = CreateRequest("t");
  ASSERT_EQ(Call("POST", "/v1/tables", &create).status, 200);
  v1::MutateRowsRequest bulk;
  const int kRows = 1200;  // ~1.2 MiB of values: several stream pieces
  for (int i = 0; i < kRows; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "row%05d", i);
    auto* entry = bulk.add_entries();
    entry->set_row_key(key);
    *entry->mutable_mutations() =
        SetCell(key, "f", std::string(1000, 'v')).mutations();
  }
  ASSERT_EQ(Call("POST", "/v1/tables/t:mutateRows", &bulk).status, 200);
  v1::ReadRowsRequest all;
  HttpResult res = Call("POST", "/v1/tables/t:readRows", &all);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.headers["transfer-encoding"], "chunked");
  std::vector<v1::ReadRowsResponse> messages =
      ParseStream(res.body, encoding());
  ASSERT_EQ(messages.size(), static_cast<size_t>(kRows + 1));
  for (int i = 0; i < kRows; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "row%05d", i);
    ASSERT_EQ(messages[static_cast<size_t>(i)].row().key(), key);
  }
  EXPECT_TRUE(messages.back().has_status());
  EXPECT_EQ(messages.back().status().code(), 0);
}

TEST_P(DataApiTest, ReadRowsStreamsRowsThenAStatus) {
  auto create = CreateRequest("t");
  ASSERT_EQ(Call("POST", "/v1/tables", &create).status, 200);
  for (const std::string& key : {std::string("b"), std::string("a"),
                                 std::string("a\0", 2), std::string("c")}) {
    auto set = SetCell(key, "f", "value-" + key);
    ASSERT_EQ(Call("POST", "/v1/tables/t:mutateRow", &set).status, 200);
  }
  auto keys = [&](const v1::ReadRowsRequest& request) {
    HttpResult res = Call("POST", "/v1/tables/t:readRows", &request);
    EXPECT_EQ(res.status, 200) << res.body;
    // A result that fits one piece comes whole, with its length.
    EXPECT_EQ(res.headers["transfer-encoding"], "");
    EXPECT_EQ(res.headers["content-length"], std::to_string(res.body.size()));
    std::vector<v1::ReadRowsResponse> messages =
        ParseStream(res.body, encoding());
    std::vector<std::string> out;
    EXPECT_FALSE(messages.empty());
    for (size_t i = 0; i + 1 < messages.size(); ++i) {
      EXPECT_TRUE(messages[i].has_row());
      out.push_back(messages[i].row().key());
    }
    if (!messages.empty()) {  // the stream ends with an OK status
      EXPECT_TRUE(messages.back().has_status());
      EXPECT_EQ(messages.back().status().code(), 0);
    }
    return out;
  };
  v1::ReadRowsRequest all;
  EXPECT_THAT(keys(all),
              ::testing::ElementsAre("a", std::string("a\0", 2), "b", "c"));
  v1::ReadRowsRequest reversed_limited;
  reversed_limited.set_reversed(true);
  reversed_limited.set_rows_limit(2);
  EXPECT_THAT(keys(reversed_limited), ::testing::ElementsAre("c", "b"));
  v1::ReadRowsRequest some;
  some.mutable_rows()->add_row_keys("c");
  some.mutable_rows()->add_row_keys("a");
  some.mutable_rows()->add_row_keys("zzz");
  EXPECT_THAT(keys(some), ::testing::ElementsAre("a", "c"));
  v1::ReadRowsRequest none;
  none.mutable_rows()->add_row_keys("nothing-here");
  EXPECT_THAT(keys(none), ::testing::IsEmpty());
}

TEST_P(DataApiTest, ReadRowsFiltersAndRowsEmptiedByThemDoNotCount) {
  auto create = CreateRequest("t");
  ASSERT_EQ(Call("POST", "/v1/tables", &create).status, 200);
  for (std::string key : {"a", "b", "c", "d"}) {
    auto set = SetCell(key, "f", key == "b" || key == "d" ? "keep" : "drop");
    ASSERT_EQ(Call("POST", "/v1/tables/t:mutateRow", &set).status, 200);
  }
  v1::ReadRowsRequest request;
  request.set_rows_limit(2);
  auto* chain = request.mutable_filter()->mutable_chain();
  chain->add_filters()->set_value_regex("keep");
  chain->add_filters()->set_apply_label("kept");
  HttpResult res = Call("POST", "/v1/tables/t:readRows", &request);
  ASSERT_EQ(res.status, 200) << res.body;
  auto messages = ParseStream(res.body, encoding());
  ASSERT_EQ(messages.size(), 3u);  // b, d, then the status
  EXPECT_EQ(messages[0].row().key(), "b");
  EXPECT_EQ(messages[1].row().key(), "d");
  EXPECT_EQ(messages[1].row().families(0).columns(0).cells(0).labels(0),
            "kept");
  EXPECT_TRUE(messages[2].has_status());

  v1::ReadRowsRequest bad;
  bad.mutable_filter()->set_value_regex("(");
  ExpectError(Call("POST", "/v1/tables/t:readRows", &bad), 400,
              absl::StatusCode::kInvalidArgument, "filter.valueRegex");
}

TEST_P(DataApiTest, MutateRowsReportsEachEntryByIndex) {
  auto create = CreateRequest("t");
  ASSERT_EQ(Call("POST", "/v1/tables", &create).status, 200);
  v1::MutateRowsRequest bulk;
  auto add = [&](const std::string& row, const std::string& family) {
    auto* entry = bulk.add_entries();
    entry->set_row_key(row);
    if (!family.empty())
      *entry->add_mutations() = SetCell(row, family, "v-" + row).mutations(0);
  };
  add("ok1", "f");
  add("bad-family", "nope");
  add("no-mutations", "");
  add("", "f");  // empty row key
  add("ok2", "f");
  add("ok1", "f");  // the same row twice in one batch is fine
  HttpResult res = Call("POST", "/v1/tables/t:mutateRows", &bulk);
  ASSERT_EQ(res.status, 200) << res.body;
  auto response = Parse<v1::MutateRowsResponse>(res);
  ASSERT_EQ(response.entries_size(), 6);
  std::vector<int> codes;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(response.entries(i).index(), i);
    codes.push_back(response.entries(i).status().code());
  }
  EXPECT_THAT(codes, ::testing::ElementsAre(0, 5, 3, 3, 0, 0));
  v1::ReadRowsRequest all;
  auto messages =
      ParseStream(Call("POST", "/v1/tables/t:readRows", &all).body, encoding());
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].row().key(), "ok1");
  EXPECT_EQ(messages[1].row().key(), "ok2");

  v1::MutateRowsRequest empty;
  ExpectError(Call("POST", "/v1/tables/t:mutateRows", &empty), 400,
              absl::StatusCode::kInvalidArgument, "no entries");
}

TEST_P(DataApiTest, MutateRowsOnAnUnknownTableFailsAsAWhole) {
  v1::MutateRowsRequest bulk;
  auto* entry = bulk.add_entries();
  entry->set_row_key("k");
  *entry->add_mutations() = SetCell("k", "f", "v").mutations(0);
  ExpectError(Call("POST", "/v1/tables/nope:mutateRows", &bulk), 404,
              absl::StatusCode::kNotFound, "nope");
}

TEST_P(DataApiTest, CheckAndMutateAndReadModifyWrite) {
  auto create = CreateRequest("t");
  ASSERT_EQ(Call("POST", "/v1/tables", &create).status, 200);
  v1::CheckAndMutateRowRequest check;
  check.set_row_key("r");
  check.mutable_predicate()->set_value_regex("x");
  *check.add_false_mutations() = SetCell("r", "f", "x").mutations(0);
  HttpResult first = Call("POST", "/v1/tables/t:checkAndMutateRow", &check);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(Parse<v1::CheckAndMutateRowResponse>(first).predicate_matched());
  EXPECT_TRUE(Parse<v1::CheckAndMutateRowResponse>(
                  Call("POST", "/v1/tables/t:checkAndMutateRow", &check))
                  .predicate_matched());
  v1::CheckAndMutateRowRequest neither;
  neither.set_row_key("r");
  ExpectError(Call("POST", "/v1/tables/t:checkAndMutateRow", &neither), 400,
              absl::StatusCode::kInvalidArgument, "both empty");

  v1::ReadModifyWriteRowRequest rmw;
  rmw.set_row_key("r");
  auto* rule = rmw.add_rules();
  rule->set_family_name("f");
  rule->set_column_qualifier("n");
  rule->set_increment_amount(41);
  *rmw.add_rules() = *rule;
  rmw.mutable_rules(1)->set_increment_amount(1);
  HttpResult res = Call("POST", "/v1/tables/t:readModifyWriteRow", &rmw);
  ASSERT_EQ(res.status, 200) << res.body;
  auto row = Parse<v1::ReadModifyWriteRowResponse>(res).row();
  ASSERT_EQ(row.families_size(), 1);
  ASSERT_EQ(row.families(0).columns_size(), 1);
  EXPECT_EQ(row.families(0).columns(0).cells(0).value(),
            std::string("\0\0\0\0\0\0\0*", 8));
  v1::ReadModifyWriteRowRequest none;
  none.set_row_key("r");
  ExpectError(Call("POST", "/v1/tables/t:readModifyWriteRow", &none), 400,
              absl::StatusCode::kInvalidArgument, "no rules");
}

TEST_P(DataApiTest, ReadRowsErrorsComeBeforeTheStream) {
  v1::ReadRowsRequest request;
  ExpectError(Call("POST", "/v1/tables/missing:readRows", &request), 404,
              absl::StatusCode::kNotFound, "missing");
  v1::ReadRowsRequest negative;
  negative.set_rows_limit(-1);
  ExpectError(Call("POST", "/v1/tables/default:readRows", &negative), 400,
              absl::StatusCode::kInvalidArgument, "rowsLimit");
  v1::ReadRowsRequest inverted;
  auto* range = inverted.mutable_rows()->add_row_ranges();
  range->set_start_closed("z");
  range->set_end_open("a");
  ExpectError(Call("POST", "/v1/tables/default:readRows", &inverted), 400,
              absl::StatusCode::kInvalidArgument, "row_ranges[0]");
}

TEST_P(DataApiTest, RoutingErrors) {
  ExpectError(Call("GET", "/v1/nothing"), 404, absl::StatusCode::kNotFound,
              "/v1/nothing");
  ExpectError(Call("GET", "/v1/tables/default:noSuchCall"), 404,
              absl::StatusCode::kNotFound, "noSuchCall");
  // A method the route does not take: 405 with the methods it does, the body's
  // code still UNIMPLEMENTED.
  HttpResult put = Call("PUT", "/v1/tables");
  ExpectError(put, 405, absl::StatusCode::kUnimplemented, "PUT");
  EXPECT_EQ(put.headers["allow"], "GET, POST");
  HttpResult get = Call("GET", "/v1/tables/default:mutateRow");
  ExpectError(get, 405, absl::StatusCode::kUnimplemented, "GET");
  EXPECT_EQ(get.headers["allow"], "POST");
  HttpResult post = Call("POST", "/v1/tables/default");
  ExpectError(post, 405, absl::StatusCode::kUnimplemented, "POST");
  EXPECT_EQ(post.headers["allow"], "GET, DELETE");
}

// Input echoed in an error is bounded (a 100 KB table name or verb).
TEST_P(DataApiTest, HugeNamesGiveBoundedErrors) {
  HttpResult table = Call("GET", "/v1/tables/" + std::string(100000, 'n'));
  EXPECT_EQ(table.status, 404);
  EXPECT_LT(table.body.size(), 1000u);
  HttpResult verb =
      Call("POST", "/v1/tables/default:" + std::string(100000, 'v'));
  EXPECT_EQ(verb.status, 404);
  EXPECT_LT(verb.body.size(), 1000u);
}

TEST(DataApiRawTest, MalformedBodiesAndContentTypesAre400) {
  testing::TempDir dir;
  auto server = ServerProcess::Start(KVSTORE_SERVER_BINARY, {"--in_memory"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = HttpTestClient::Connect((*server)->port());
  ASSERT_THAT(client, IsOk());
  auto json = (*client)->Request(
      "POST", "/v1/tables/default:mutateRow",
      "{\"rowKey\":", {{"Content-Type", "application/json"}});
  ASSERT_THAT(json, IsOk());
  EXPECT_EQ(json->status, 400);
  EXPECT_THAT(json->body, HasSubstr("\"code\":3"));
  auto proto =
      (*client)->Request("POST", "/v1/tables/default:mutateRow", "\xff\xff\xff",
                         {{"Content-Type", "application/x-protobuf"}});
  ASSERT_THAT(proto, IsOk());
  EXPECT_EQ(proto->status, 400);
  auto text = (*client)->Request("POST", "/v1/tables", "name=x",
                                 {{"Content-Type", "text/plain"}});
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(text->status, 400);
  EXPECT_THAT(text->body, HasSubstr("text/plain"));
  // curl-style JSON with snake_case names is accepted too.
  auto ok =
      (*client)->Request("POST", "/v1/tables/default:mutateRow",
                         "{\"row_key\":\"aw==\",\"mutations\":[{\"set_cell\":{"
                         "\"family_name\":\"cf\","
                         "\"timestamp_micros\":\"-1\",\"value\":\"dg==\"}}]}",
                         {{"Content-Type", "application/json"}});
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ((*client)->Get("/get?key=k")->body, "v");
}

INSTANTIATE_TEST_SUITE_P(BothEncodings, DataApiTest,
                         ::testing::Values(Encoding::kJson, Encoding::kProto),
                         [](const auto& param_info) {
                           return param_info.param == Encoding::kJson
                                      ? std::string("Json")
                                      : std::string("Proto");
                         });

}  // namespace
}  // namespace kvstore
