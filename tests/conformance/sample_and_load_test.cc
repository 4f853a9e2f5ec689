// SampleRowKeys, and many clients and calls at once.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "tests/conformance/harness.h"

namespace kvstore::conformance {
namespace {

CONFORMANCE_TEST(ConformanceTest,
                 SampleRowKeys_Generic_EmptyTableEndsWithEmptyKey,
                 "API-1 API-4") {
  auto result = Sample();
  ASSERT_EQ(result.status().code(), 0);
  ASSERT_EQ(result.samples_size(), 1);
  EXPECT_EQ(result.samples(0).row_key(), "");
  EXPECT_EQ(result.samples(0).offset_bytes(), 0);
}

CONFORMANCE_TEST(ConformanceTest,
                 SampleRowKeys_Generic_EndsWithTheTotalAndNeverDecreases,
                 "API-1 API-4") {
  v1::MutateRowsRequest bulk;
  for (int i = 0; i < 500; ++i) {
    auto* entry = bulk.add_entries();
    entry->set_row_key("row" + std::to_string(1000 + i));
    *entry->add_mutations() = SetCell("f", "q", std::string(2000, 'v'));
  }
  ASSERT_EQ(Bulk(bulk).status().code(), 0);
  auto result = Sample();
  ASSERT_EQ(result.status().code(), 0);
  ASSERT_GE(result.samples_size(), 1);
  const auto& last = result.samples(result.samples_size() - 1);
  EXPECT_EQ(last.row_key(), "");
  EXPECT_GT(last.offset_bytes(), 0);
  for (int i = 1; i < result.samples_size(); ++i) {
    EXPECT_GE(result.samples(i).offset_bytes(),
              result.samples(i - 1).offset_bytes());
    if (i + 1 < result.samples_size()) {
      EXPECT_LT(result.samples(i - 1).row_key(), result.samples(i).row_key());
    }
  }
}

CONFORMANCE_TEST(ConformanceTest, SampleRowKeys_Generic_UnknownTableIsNotFound,
                 "CH-1 API-3") {
  EXPECT_EQ(Sample("no_such_table").status().code(),
            Code(absl::StatusCode::kNotFound));
}

CONFORMANCE_TEST(ConformanceTest, MutateRow_Generic_ManyClientsInParallel,
                 "LC-5") {
  constexpr int kClients = 8, kEach = 20;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      const std::string id = "writer-" + std::to_string(c);
      tpv1::CreateClientRequest create;
      create.set_client_id(id);
      create.set_data_target(StoreTarget());
      tpv1::CreateClientResponse created;
      grpc::ClientContext create_context;
      if (!stub().CreateClient(&create_context, create, &created).ok()) {
        ++errors;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        tpv1::MutateRowRequest request;
        request.set_client_id(id);
        request.set_table_name("t");
        request.mutable_request()->set_row_key(id + "/" + std::to_string(i));
        *request.mutable_request()->add_mutations() = SetCell("f", "q", id);
        tpv1::MutateRowResult result;
        grpc::ClientContext context;
        SetRpcDeadline(&context);
        if (!stub().MutateRow(&context, request, &result).ok() ||
            result.status().code() != 0) {
          ++errors;
        }
      }
      tpv1::RemoveClientRequest remove;
      remove.set_client_id(id);
      tpv1::RemoveClientResponse removed;
      grpc::ClientContext remove_context;
      if (!stub().RemoveClient(&remove_context, remove, &removed).ok())
        ++errors;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  auto all = ReadRows(v1::ReadRowsRequest());
  EXPECT_EQ(all.rows_size(), kClients * kEach);
}

CONFORMANCE_TEST(ConformanceTest, ReadRows_Generic_ParallelScansOnOneClient,
                 "LC-5") {
  v1::MutateRowsRequest bulk;
  for (int i = 0; i < 300; ++i) {
    auto* entry = bulk.add_entries();
    entry->set_row_key("k" + std::to_string(1000 + i));
    *entry->add_mutations() = SetCell("f", "q", std::string(100, 'v'));
  }
  ASSERT_EQ(Bulk(bulk).status().code(), 0);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int n = 0; n < 5; ++n) {
        tpv1::ReadRowsRequest request;
        request.set_client_id(client_id());
        request.set_table_name("t");
        request.mutable_request();
        tpv1::RowsResult result;
        grpc::ClientContext context;
        SetRpcDeadline(&context);
        if (!stub().ReadRows(&context, request, &result).ok() ||
            result.status().code() != 0 || result.rows_size() != 300) {
          ++bad;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace kvstore::conformance
