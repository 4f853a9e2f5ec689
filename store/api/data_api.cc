#include "store/api/data_api.h"

#include <atomic>
#include <memory>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/quote.h"
#include "common/status_proto.h"
#include "kvstore/v1/store.pb.h"
#include "store/api/api_codec.h"
#include "store/api/read_rows_source.h"
#include "store/api/request_info.h"
#include "store/filter/row_filter.h"

namespace kvstore::store {
namespace {

namespace http = boost::beast::http;

constexpr absl::string_view kTablesPath = "/v1/tables";
constexpr absl::string_view kNdjsonContentType = "application/x-ndjson";

// `respond`, telling the request journal which rows the request concerned.
HttpHandler::Respond NotingRows(HttpHandler::Respond respond,
                                std::vector<std::string> row_keys) {
  return [respond = std::move(respond),
          row_keys = std::move(row_keys)](HttpReply reply) mutable {
    reply.note.row_keys = std::move(row_keys);
    std::move(respond)(std::move(reply));
  };
}

// The answer an injection point's verdict asks for instead of the real one.
HttpReply VerdictReply(const Verdict& verdict, Encoding encoding) {
  if (verdict.kind != Verdict::kError) return HttpReply::Drop();
  HttpResponse res = ErrorResponse(verdict.error, encoding);
  if (verdict.text_body) {
    res.set(http::field::content_type, "text/plain");
    res.body() = std::string(verdict.error.message());
  }
  if (verdict.retry_after_s >= 0) {
    res.set(http::field::retry_after, std::to_string(verdict.retry_after_s));
  }
  return res;
}

// A filter from the request, or null without one.
absl::StatusOr<std::unique_ptr<CompiledFilter>> FilterOf(
    bool has_filter, const v1::RowFilter& filter) {
  if (!has_filter) return std::unique_ptr<CompiledFilter>();
  return CompiledFilter::Compile(filter);
}

}  // namespace

// One data-API request, parsed once: what every verb's function starts from.
struct DataApi::Call {
  const HttpRequest* request;
  // Into the request; read only while Handle runs.
  absl::string_view path;
  DataPath target;
  Encoding body_encoding = Encoding::kJson;  // of the request's body
  Encoding encoding = Encoding::kJson;       // of the answer
  // What injection points match on; null unless injection is on.
  std::shared_ptr<RequestInfo> info;
  HttpHandler::Respond respond;

  void Fail(const absl::Status& status) {
    std::move(respond)(ErrorResponse(status, encoding));
  }
  void Reply(const google::protobuf::Message& message) {
    std::move(respond)(MessageResponse(200, message, encoding));
  }
  // Parses the body into `message`; on error answers it and returns false.
  bool Parse(google::protobuf::Message* message) {
    absl::Status parsed = ParseMessage(request->body(), body_encoding, message);
    if (!parsed.ok()) Fail(parsed);
    return parsed.ok();
  }
  // The row key injection points match this request on.
  void SetRow(const std::string& row_key) {
    if (info != nullptr) info->row_key = row_key;
  }
};

absl::StatusOr<std::vector<Mutation>> MutationsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Mutation>& mutations,
    absl::string_view field) {
  if (mutations.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": no mutations provided"));
  }
  if (mutations.size() > kMaxMutationsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", mutations.size(), " mutations; the limit is ",
                     kMaxMutationsPerRequest));
  }
  std::vector<Mutation> out;
  out.reserve(static_cast<size_t>(mutations.size()));
  for (int i = 0; i < mutations.size(); ++i) {
    const v1::Mutation& m = mutations[i];
    std::string where = absl::StrCat(field, "[", i, "]");
    switch (m.kind_case()) {
      case v1::Mutation::kSetCell:
        if (m.set_cell().family_name().empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".setCell.familyName must be set"));
        }
        out.push_back(Mutation::SetCell(
            m.set_cell().family_name(), m.set_cell().column_qualifier(),
            m.set_cell().timestamp_micros(), m.set_cell().value()));
        break;
      case v1::Mutation::kDeleteFromColumn:
        if (m.delete_from_column().family_name().empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".deleteFromColumn.familyName must be set"));
        }
        out.push_back(Mutation::DeleteFromColumn(
            m.delete_from_column().family_name(),
            m.delete_from_column().column_qualifier(),
            m.delete_from_column().time_range().start_micros(),
            m.delete_from_column().time_range().end_micros()));
        break;
      case v1::Mutation::kDeleteFromFamily:
        if (m.delete_from_family().family_name().empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".deleteFromFamily.familyName must be set"));
        }
        out.push_back(
            Mutation::DeleteFromFamily(m.delete_from_family().family_name()));
        break;
      case v1::Mutation::kDeleteFromRow:
        out.push_back(Mutation::DeleteFromRow());
        break;
      case v1::Mutation::KIND_NOT_SET:
        return absl::InvalidArgumentError(
            absl::StrCat(where,
                         " sets none of setCell, deleteFromColumn, "
                         "deleteFromFamily, deleteFromRow"));
    }
  }
  return out;
}

absl::StatusOr<DataPath> ParseDataPath(absl::string_view path) {
  if (path == kTablesPath) return DataPath{};
  if (!absl::StartsWith(path, absl::StrCat(kTablesPath, "/"))) {
    return absl::NotFoundError(absl::StrCat("no such route: ", Quote(path)));
  }
  absl::string_view rest = path.substr(kTablesPath.size() + 1);
  DataPath target;
  size_t colon = rest.find(':');
  target.table = std::string(rest.substr(0, colon));
  if (colon != absl::string_view::npos) {
    target.verb = std::string(rest.substr(colon + 1));
  }
  if (target.table.empty() || absl::StrContains(target.table, '/')) {
    return absl::NotFoundError(absl::StrCat("no such route: ", Quote(path)));
  }
  return target;
}

Route RouteOf(const absl::StatusOr<DataPath>& path) {
  if (!path.ok()) return Route::kOther;
  const std::string& verb = path->verb;
  if (verb.empty()) return Route::kTables;
  if (verb == "mutateRow") return Route::kMutateRow;
  if (verb == "readRows") return Route::kReadRows;
  if (verb == "mutateRows") return Route::kMutateRows;
  if (verb == "checkAndMutateRow") return Route::kCheckAndMutateRow;
  if (verb == "sampleRowKeys") return Route::kSampleRowKeys;
  if (verb == "readModifyWriteRow") return Route::kReadModifyWriteRow;
  return Route::kOther;
}

DataApi::VerbHandler DataApi::HandlerOf(const DataPath& target,
                                        http::verb method,
                                        std::string* allowed) {
  struct Entry {
    bool collection;         // /v1/tables itself
    absl::string_view verb;  // after ':'; empty for a table itself
    http::verb method;
    VerbHandler handler;
  };
  static constexpr Entry kEntries[] = {
      {true, "", http::verb::get, &DataApi::ListTables},
      {true, "", http::verb::post, &DataApi::CreateTable},
      {false, "", http::verb::get, &DataApi::GetTable},
      {false, "", http::verb::delete_, &DataApi::DeleteTable},
      {false, "mutateRow", http::verb::post, &DataApi::MutateRow},
      {false, "mutateRows", http::verb::post, &DataApi::MutateRows},
      {false, "sampleRowKeys", http::verb::get, &DataApi::SampleRowKeys},
      {false, "checkAndMutateRow", http::verb::post,
       &DataApi::CheckAndMutateRow},
      {false, "readModifyWriteRow", http::verb::post,
       &DataApi::ReadModifyWriteRow},
      {false, "readRows", http::verb::post, &DataApi::ReadRows},
  };
  VerbHandler found = nullptr;
  for (const Entry& entry : kEntries) {
    if (entry.collection != target.table.empty() || entry.verb != target.verb) {
      continue;
    }
    if (entry.method == method) found = entry.handler;
    boost::beast::string_view name = http::to_string(entry.method);
    absl::StrAppend(allowed, allowed->empty() ? "" : ", ",
                    absl::string_view(name.data(), name.size()));
  }
  return found;
}

void DataApi::Handle(const HttpRequest& request, absl::string_view path,
                     absl::StatusOr<DataPath> target,
                     HttpHandler::Respond respond) {
  Call call;
  call.request = &request;
  call.path = path;
  call.respond = std::move(respond);
  auto header = [&request](http::field field) {
    return absl::string_view(request[field].data(), request[field].size());
  };
  absl::StatusOr<Encoding> body_encoding =
      RequestEncoding(header(http::field::content_type));
  call.encoding = ResponseEncoding(header(http::field::accept),
                                   body_encoding.value_or(Encoding::kJson));
  if (!body_encoding.ok()) return call.Fail(body_encoding.status());
  if (!target.ok()) return call.Fail(target.status());
  call.body_encoding = *body_encoding;
  call.target = std::move(*target);
  std::string allowed;
  VerbHandler handler = HandlerOf(call.target, request.method(), &allowed);
  if (handler == nullptr && !allowed.empty()) {
    return std::move(call.respond)(
        MethodNotAllowed(request, path, allowed, call.encoding));
  }
  if (handler == nullptr) {
    return call.Fail(absl::NotFoundError(
        absl::StrCat("no such call: ", Quote(call.target.verb))));
  }
  if (injection_ != nullptr && !call.target.verb.empty()) {
    call.info = std::make_shared<RequestInfo>(
        RequestInfoOf(request, call.path, call.target.table));
  }
  (this->*handler)(std::move(call));
}

void DataApi::ListTables(Call call) {
  absl::StatusOr<std::vector<TableSchema>> tables = engine_->ListTables();
  if (!tables.ok()) return call.Fail(tables.status());
  v1::ListTablesResponse response;
  for (TableSchema& t : *tables) *response.add_tables() = std::move(t);
  call.Reply(response);
}

void DataApi::CreateTable(Call call) {
  v1::CreateTableRequest create;
  if (!call.Parse(&create)) return;
  absl::Status created = engine_->CreateTable(create.table());
  if (!created.ok()) return call.Fail(created);
  call.Reply(create.table());
}

void DataApi::GetTable(Call call) {
  absl::StatusOr<TableSchema> table = engine_->GetTable(call.target.table);
  if (!table.ok()) return call.Fail(table.status());
  call.Reply(*table);
}

void DataApi::DeleteTable(Call call) {
  absl::Status deleted = engine_->DeleteTable(call.target.table);
  if (!deleted.ok()) return call.Fail(deleted);
  call.Reply(v1::Status());
}

void DataApi::MutateRow(Call call) {
  v1::MutateRowRequest mutate;
  if (!call.Parse(&mutate)) return;
  absl::StatusOr<std::vector<Mutation>> mutations =
      MutationsFromProto(mutate.mutations(), "mutations");
  if (!mutations.ok()) return call.Fail(mutations.status());
  call.SetRow(mutate.row_key());
  auto write = [this, table = call.target.table,
                row = std::move(*mutate.mutable_row_key()),
                mutations = std::move(*mutations),
                encoding = call.encoding](Finish finish) mutable {
    engine_->MutateRow(
        table, std::move(row), std::move(mutations),
        [finish = std::move(finish), encoding](absl::Status status) mutable {
          if (!status.ok()) {
            return std::move(finish)(false, ErrorResponse(status, encoding));
          }
          std::move(finish)(
              true, MessageResponse(200, v1::MutateRowResponse(), encoding));
        });
  };
  GatedWrite(call.info, call.encoding, std::move(call.respond),
             std::move(write));
}

void DataApi::MutateRows(Call call) {
  v1::MutateRowsRequest bulk;
  if (!call.Parse(&bulk)) return;
  if (call.info != nullptr) {  // error injection (and its journal) on
    std::vector<std::string> keys;
    for (const auto& entry : bulk.entries()) keys.push_back(entry.row_key());
    call.respond = NotingRows(std::move(call.respond), std::move(keys));
  }
  Gated(call.info, call.encoding, std::move(call.respond),
        [this, info = call.info, encoding = call.encoding,
         table = call.target.table,
         bulk = std::move(bulk)](HttpHandler::Respond answer) mutable {
          ApplyBulk(table, std::move(bulk), info, encoding, std::move(answer));
        });
}

void DataApi::SampleRowKeys(Call call) {
  Gated(call.info, call.encoding, std::move(call.respond),
        [this, table = call.target.table,
         encoding = call.encoding](HttpHandler::Respond answer) mutable {
          absl::StatusOr<std::vector<Engine::RowKeySample>> samples =
              engine_->SampleRowKeys(table);
          if (!samples.ok()) {
            return std::move(answer)(ErrorResponse(samples.status(), encoding));
          }
          v1::SampleRowKeysResponse response;
          for (Engine::RowKeySample& sample : *samples) {
            auto* out = response.add_samples();
            out->set_row_key(std::move(sample.row_key));
            out->set_offset_bytes(sample.offset_bytes);
          }
          std::move(answer)(MessageResponse(200, response, encoding));
        });
}

void DataApi::CheckAndMutateRow(Call call) {
  v1::CheckAndMutateRowRequest check;
  if (!call.Parse(&check)) return;
  std::vector<Mutation> on_true, on_false;
  for (auto [source, name, out] :
       {std::make_tuple(&check.true_mutations(), "trueMutations", &on_true),
        std::make_tuple(&check.false_mutations(), "falseMutations",
                        &on_false)}) {
    if (source->empty()) continue;
    absl::StatusOr<std::vector<Mutation>> converted =
        MutationsFromProto(*source, name);
    if (!converted.ok()) return call.Fail(converted.status());
    *out = std::move(*converted);
  }
  absl::StatusOr<std::unique_ptr<CompiledFilter>> predicate =
      FilterOf(check.has_predicate(), check.predicate());
  if (!predicate.ok()) return call.Fail(predicate.status());
  call.SetRow(check.row_key());
  auto write =
      [this, table = call.target.table,
       row = std::move(*check.mutable_row_key()),
       predicate = std::shared_ptr<const CompiledFilter>(std::move(*predicate)),
       on_true = std::move(on_true), on_false = std::move(on_false),
       encoding = call.encoding](Finish finish) mutable {
        engine_->CheckAndMutateRow(
            table, std::move(row), std::move(predicate), std::move(on_true),
            std::move(on_false),
            [finish = std::move(finish),
             encoding](absl::StatusOr<bool> matched) mutable {
              if (!matched.ok()) {
                return std::move(finish)(
                    false, ErrorResponse(matched.status(), encoding));
              }
              v1::CheckAndMutateRowResponse response;
              response.set_predicate_matched(*matched);
              std::move(finish)(true, MessageResponse(200, response, encoding));
            });
      };
  GatedWrite(call.info, call.encoding, std::move(call.respond),
             std::move(write));
}

void DataApi::ReadModifyWriteRow(Call call) {
  v1::ReadModifyWriteRowRequest rmw;
  if (!call.Parse(&rmw)) return;
  std::vector<v1::ReadModifyWriteRule> rules(rmw.rules().begin(),
                                             rmw.rules().end());
  call.SetRow(rmw.row_key());
  auto write = [this, table = call.target.table,
                row = std::move(*rmw.mutable_row_key()),
                rules = std::move(rules),
                encoding = call.encoding](Finish finish) mutable {
    engine_->ReadModifyWriteRow(
        table, std::move(row), std::move(rules),
        [finish = std::move(finish),
         encoding](absl::StatusOr<v1::Row> result) mutable {
          if (!result.ok()) {
            return std::move(finish)(false,
                                     ErrorResponse(result.status(), encoding));
          }
          v1::ReadModifyWriteRowResponse response;
          *response.mutable_row() = std::move(*result);
          std::move(finish)(true, MessageResponse(200, response, encoding));
        });
  };
  GatedWrite(call.info, call.encoding, std::move(call.respond),
             std::move(write));
}

void DataApi::ReadRows(Call call) {
  v1::ReadRowsRequest read;
  if (!call.Parse(&read)) return;
  if (read.rows_limit() < 0) {
    return call.Fail(
        absl::InvalidArgumentError("rowsLimit must not be negative"));
  }
  absl::StatusOr<std::unique_ptr<CompiledFilter>> filter =
      FilterOf(read.has_filter(), read.filter());
  if (!filter.ok()) return call.Fail(filter.status());
  if (read.rows().row_keys_size() == 1 && read.rows().row_ranges().empty()) {
    call.SetRow(read.rows().row_keys(0));  // a point read
  }
  Gated(call.info, call.encoding, std::move(call.respond),
        [this, info = call.info, table = call.target.table,
         read = std::move(read), filter = std::move(*filter),
         encoding = call.encoding](HttpHandler::Respond answer) mutable {
          StartScan(table, read, std::move(filter), info, encoding,
                    std::move(answer));
        });
}

void DataApi::StartScan(const std::string& table,
                        const v1::ReadRowsRequest& read,
                        std::unique_ptr<CompiledFilter> filter,
                        const Info& info, Encoding encoding,
                        HttpHandler::Respond respond) {
  absl::StatusOr<std::unique_ptr<RowScanner>> scanner =
      engine_->ScanRows(table, read.rows(), read.reversed());
  if (!scanner.ok()) {
    return std::move(respond)(ErrorResponse(scanner.status(), encoding));
  }
  HttpResponse header =
      BodyResponse(200, "",
                   encoding == Encoding::kJson ? kNdjsonContentType
                                               : ContentTypeOf(encoding));
  InjectionRegistry* watch = nullptr;
  int64_t after_rows = 0;
  if (injection_ != nullptr && injection_->armed(PointId::kReadRowsRow)) {
    watch = injection_;
    after_rows = injection_->AfterRows(PointId::kReadRowsRow);
  }
  std::move(respond)(HttpReply(
      std::move(header),
      std::make_unique<ReadRowsSource>(std::move(*scanner), std::move(filter),
                                       read.rows_limit(), encoding, watch, info,
                                       after_rows)));
}

void DataApi::Gate(PointId point, const Info& info,
                   absl::AnyInvocable<void(Verdict) &&> next) {
  if (injection_ == nullptr || !injection_->armed(point)) {
    std::move(next)(Verdict{});
    return;
  }
  injection_->Check(point, *info, std::move(next));
}

void DataApi::Gated(const Info& info, Encoding encoding,
                    HttpHandler::Respond respond,
                    absl::AnyInvocable<void(HttpHandler::Respond) &&> start) {
  if (info != nullptr && !info->row_key.empty()) {
    respond = NotingRows(std::move(respond), {info->row_key});
  }
  Gate(PointId::kRequestParsed, info,
       [encoding, respond = std::move(respond),
        start = std::move(start)](Verdict verdict) mutable {
         if (verdict.kind == Verdict::kProceed) {
           std::move(start)(std::move(respond));
         } else if (verdict.kind == Verdict::kTransport) {
           std::move(start)(
               WithTransportFault(std::move(respond), verdict.transport));
         } else {
           std::move(respond)(VerdictReply(verdict, encoding));
         }
       });
}

void DataApi::GatedWrite(const Info& info, Encoding encoding,
                         HttpHandler::Respond respond,
                         absl::AnyInvocable<void(Finish) &&> start) {
  Gated(
      info, encoding, std::move(respond),
      [this, info, encoding,
       start = std::move(start)](HttpHandler::Respond parsed) mutable {
        Gate(PointId::kBeforeCommit, info,
             [this, info, encoding, respond = std::move(parsed),
              start = std::move(start)](Verdict verdict) mutable {
               if (verdict.kind != Verdict::kProceed) {
                 std::move(respond)(VerdictReply(verdict, encoding));
                 return;
               }
               std::move(
                   start)([this, info, encoding, respond = std::move(respond)](
                              bool committed, HttpReply reply) mutable {
                 if (!committed) {
                   std::move(respond)(std::move(reply));
                   return;
                 }
                 Gate(PointId::kAfterCommit, info,
                      [encoding, respond = std::move(respond),
                       reply = std::move(reply)](Verdict after) mutable {
                        std::move(respond)(after.kind == Verdict::kProceed
                                               ? std::move(reply)
                                               : VerdictReply(after, encoding));
                      });
               });
             });
      });
}

void DataApi::ApplyBulk(const std::string& table, v1::MutateRowsRequest bulk,
                        const Info& info, Encoding encoding,
                        HttpHandler::Respond respond) {
  if (bulk.entries().empty()) {
    std::move(respond)(ErrorResponse(
        absl::InvalidArgumentError("entries: no entries provided"), encoding));
    return;
  }
  // An unknown table fails the whole call (404), as Bigtable does, instead of
  // NOT_FOUND in every entry.
  if (absl::StatusOr<TableSchema> known = engine_->GetTable(table);
      !known.ok()) {
    std::move(respond)(ErrorResponse(known.status(), encoding));
    return;
  }
  size_t total = 0;
  for (const auto& entry : bulk.entries())
    total += static_cast<size_t>(entry.mutations_size());
  if (total > static_cast<size_t>(kMaxMutationsPerRequest)) {
    std::move(respond)(ErrorResponse(
        absl::InvalidArgumentError(
            absl::StrCat("entries: ", total, " mutations in all; the limit is ",
                         kMaxMutationsPerRequest)),
        encoding));
    return;
  }
  // Entries are independent: each is one atomic MutateRow, and the answer goes
  // out once the last of them has finished.
  struct Bulk {
    std::vector<absl::Status> statuses;
    std::atomic<size_t> pending{0};
    HttpHandler::Respond respond;
    Encoding encoding;
  };
  auto state = std::make_shared<Bulk>();
  const size_t n = static_cast<size_t>(bulk.entries_size());
  state->statuses.resize(n);
  state->pending = n;
  state->respond = std::move(respond);
  state->encoding = encoding;
  auto finish_one = [state](size_t index, absl::Status status) {
    state->statuses[index] = std::move(status);
    if (state->pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    v1::MutateRowsResponse response;
    for (size_t i = 0; i < state->statuses.size(); ++i) {
      auto* entry = response.add_entries();
      entry->set_index(static_cast<int64_t>(i));
      StatusToProto(state->statuses[i], entry->mutable_status());
    }
    std::move(state->respond)(MessageResponse(200, response, state->encoding));
  };
  for (size_t i = 0; i < n; ++i) {
    v1::MutateRowsRequest::Entry* entry =
        bulk.mutable_entries(static_cast<int>(i));
    absl::StatusOr<std::vector<Mutation>> mutations = MutationsFromProto(
        entry->mutations(), absl::StrCat("entries[", i, "].mutations"));
    if (!mutations.ok()) {
      finish_one(i, mutations.status());
      continue;
    }
    Info entry_info;
    if (injection_ != nullptr) {
      auto copy = std::make_shared<RequestInfo>(*info);
      copy->row_key = entry->row_key();
      entry_info = std::move(copy);
    }
    Gate(
        PointId::kBulkEntry, entry_info,
        [this, table, finish_one, i, row = std::move(*entry->mutable_row_key()),
         mutations = std::move(*mutations)](Verdict verdict) mutable {
          if (verdict.kind != Verdict::kProceed) {
            finish_one(i, verdict.error);
            return;
          }
          engine_->MutateRow(table, std::move(row), std::move(mutations),
                             [finish_one, i](absl::Status status) {
                               finish_one(i, std::move(status));
                             });
        });
  }
}

}  // namespace kvstore::store
