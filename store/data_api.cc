#include "store/data_api.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "kvstore/v1/store.pb.h"
#include "store/api_codec.h"
#include "store/row_filter.h"
#include "store/row_wire.h"
#include "store/status_http.h"

namespace kvstore::store {
namespace {

namespace http = boost::beast::http;

constexpr absl::string_view kTablesPath = "/v1/tables";
constexpr absl::string_view kNdjsonContentType = "application/x-ndjson";

HttpResponse MessageResponse(int http_status,
                             const google::protobuf::Message& message,
                             Encoding encoding) {
  HttpResponse res{static_cast<http::status>(http_status), 11};
  absl::string_view type = ContentTypeOf(encoding);
  res.set(http::field::content_type,
          boost::beast::string_view(type.data(), type.size()));
  res.body() = SerializeMessage(message, encoding);
  return res;
}

HttpResponse ErrorResponse(const absl::Status& status, Encoding encoding) {
  v1::Status body;
  body.set_code(static_cast<int>(status.code()));
  body.set_message(std::string(status.message()));
  return MessageResponse(HttpStatusFromCode(status.code()), body, encoding);
}

// The answer an injection point's verdict asks for instead of the real one.
HttpReply VerdictReply(const Verdict& verdict, Encoding encoding) {
  if (verdict.kind != Verdict::kError) return HttpReply::Drop();
  HttpResponse res = ErrorResponse(verdict.AsStatus(), encoding);
  if (verdict.text_body) {
    res.set(http::field::content_type, "text/plain");
    res.body() = verdict.message;
  }
  res.result(static_cast<http::status>(verdict.http_status));
  if (verdict.retry_after_s >= 0) {
    res.set(http::field::retry_after, std::to_string(verdict.retry_after_s));
  }
  return res;
}

// What a /v1/tables... path names.
struct Target {
  std::string table;  // empty for /v1/tables itself
  std::string verb;   // after ':' (mutateRow, ...), empty for the table itself
};

absl::StatusOr<Target> ParseTarget(absl::string_view path) {
  if (path == kTablesPath) return Target{};
  if (!absl::StartsWith(path, absl::StrCat(kTablesPath, "/"))) {
    return absl::NotFoundError(absl::StrCat("no such route: ", path));
  }
  absl::string_view rest = path.substr(kTablesPath.size() + 1);
  Target target;
  size_t colon = rest.find(':');
  target.table = std::string(rest.substr(0, colon));
  if (colon != absl::string_view::npos)
    target.verb = std::string(rest.substr(colon + 1));
  if (target.table.empty() || absl::StrContains(target.table, '/')) {
    return absl::NotFoundError(absl::StrCat("no such route: ", path));
  }
  return target;
}

absl::Status MethodNotSupported(const HttpRequest& request,
                                absl::string_view path) {
  return absl::UnimplementedError(absl::StrCat(
      std::string(request.method_string()), " is not supported on ", path));
}

// Streams a scan as ReadRowsResponse messages (see store.proto): one per row,
// then one with only the final status. Binary: each message preceded by its
// varint length; JSON: one per line.
class ReadRowsSource final : public ChunkSource {
 public:
  // Pieces are cut at about this size: big enough to amortize writes, small
  // enough that a piece never holds much of a scan.
  static constexpr size_t kPieceBytes = 256 * 1024;

  // `filter` may be null (every cell passes). With `injection`, the stream
  // passes read_rows.row once it has sent `after_rows` rows.
  ReadRowsSource(std::unique_ptr<RowScanner> scanner,
                 std::unique_ptr<CompiledFilter> filter, int64_t rows_limit,
                 Encoding encoding, InjectionRegistry* injection,
                 std::shared_ptr<const RequestInfo> info, int64_t after_rows)
      : scanner_(std::move(scanner)),
        filter_(std::move(filter)),
        rows_limit_(rows_limit),
        encoding_(encoding),
        injection_(injection),
        info_(std::move(info)),
        after_rows_(after_rows) {}

  absl::StatusOr<std::optional<std::string>> Next() override {
    if (truncated_) {
      return absl::UnavailableError("stream truncated by read_rows.row");
    }
    if (finished_) return std::nullopt;
    std::string piece;
    // A point read's answer is small: only a stream that has already filled a
    // piece gets a whole piece's buffer up front (a 256 KiB allocation per
    // request would go to mmap and page faults).
    piece.reserve(pieces_ == 0 ? 4096 : kPieceBytes + 64 * 1024);
    ++pieces_;
    while (piece.size() < kPieceBytes && !finished_) {
      if (injection_ != nullptr && emitted_ >= after_rows_) {
        Verdict verdict = injection_->CheckNow(PointId::kReadRowsRow, *info_);
        injection_ = nullptr;  // once per stream
        if (verdict.kind == Verdict::kError) {
          Finish(verdict.AsStatus(), &piece);
          break;
        }
        if (verdict.kind != Verdict::kProceed) {
          truncated_ = true;  // what is in `piece` goes out, then the cut
          if (piece.empty()) return Next();
          return piece;
        }
      }
      if (rows_limit_ > 0 && emitted_ >= rows_limit_) {
        Finish(absl::OkStatus(), &piece);
        break;
      }
      absl::StatusOr<bool> more = scanner_->Next(&row_);
      if (!more.ok() || !*more) {
        Finish(more.status(), &piece);
        break;
      }
      if (filter_ != nullptr) {
        selection_ = filter_->Select(row_.key, row_.cells);
        if (selection_.empty()) continue;  // filtered out: not counted
      } else {
        selection_.resize(row_.cells.size());
        for (size_t i = 0; i < selection_.size(); ++i) {
          selection_[i] =
              FilteredCell{static_cast<uint32_t>(i), false, nullptr};
        }
      }
      if (encoding_ == Encoding::kJson) {
        v1::ReadRowsResponse response;
        *response.mutable_row() =
            RowOf(row_.key, Materialize(row_.cells, selection_));
        piece.append(SerializeMessage(response, Encoding::kJson));
        piece.push_back('\n');
      } else {
        AppendDelimitedRowResponse(row_.key, row_.cells, selection_, &piece);
      }
      ++emitted_;
    }
    return piece;
  }

 private:
  void Finish(const absl::Status& status, std::string* piece) {
    v1::ReadRowsResponse response;
    response.mutable_status()->set_code(static_cast<int>(status.code()));
    response.mutable_status()->set_message(std::string(status.message()));
    if (encoding_ == Encoding::kJson) {
      piece->append(SerializeMessage(response, Encoding::kJson));
      piece->push_back('\n');
    } else {
      AppendVarint(response.ByteSizeLong(), piece);
      response.AppendToString(piece);
    }
    finished_ = true;
    scanner_.reset();  // releases the snapshot now
  }

  std::unique_ptr<RowScanner> scanner_;
  const std::unique_ptr<CompiledFilter> filter_;
  const int64_t rows_limit_;
  const Encoding encoding_;
  InjectionRegistry* injection_;  // null once read_rows.row has been passed
  const std::shared_ptr<const RequestInfo> info_;
  const int64_t after_rows_;
  int64_t emitted_ = 0;
  int64_t pieces_ = 0;  // pieces produced so far
  bool finished_ = false;
  bool truncated_ = false;
  // Reused across rows to save allocations.
  ScannedRow row_;
  std::vector<FilteredCell> selection_;
};

}  // namespace

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
  Gate(PointId::kRequestParsed, info,
       [encoding, respond = std::move(respond),
        start = std::move(start)](Verdict verdict) mutable {
         if (verdict.kind == Verdict::kProceed) {
           std::move(start)(std::move(respond));
         } else if (verdict.kind == Verdict::kReset) {
           std::move(start)(
               [respond = std::move(respond)](HttpReply reply) mutable {
                 reply.reset_mid_answer = true;
                 std::move(respond)(std::move(reply));
               });
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

void DataApi::MutateRows(const std::string& table, v1::MutateRowsRequest bulk,
                         const Info& info, Encoding encoding,
                         HttpHandler::Respond respond) {
  if (bulk.entries().empty()) {
    std::move(respond)(ErrorResponse(
        absl::InvalidArgumentError("entries: no entries provided"), encoding));
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
      entry->mutable_status()->set_code(
          static_cast<int>(state->statuses[i].code()));
      entry->mutable_status()->set_message(
          std::string(state->statuses[i].message()));
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
            finish_one(i, verdict.AsStatus());
            return;
          }
          engine_->MutateRow(table, std::move(row), std::move(mutations),
                             [finish_one, i](absl::Status status) {
                               finish_one(i, std::move(status));
                             });
        });
  }
}

Route DataApi::RouteOf(absl::string_view path) {
  absl::StatusOr<Target> target = ParseTarget(path);
  if (!target.ok()) return Route::kOther;
  if (target->verb.empty()) return Route::kTables;
  if (target->verb == "mutateRow") return Route::kMutateRow;
  if (target->verb == "readRows") return Route::kReadRows;
  if (target->verb == "mutateRows") return Route::kMutateRows;
  if (target->verb == "checkAndMutateRow") return Route::kCheckAndMutateRow;
  if (target->verb == "sampleRowKeys") return Route::kSampleRowKeys;
  if (target->verb == "readModifyWriteRow") return Route::kReadModifyWriteRow;
  return Route::kOther;
}

void DataApi::Handle(const HttpRequest& request, absl::string_view path,
                     HttpHandler::Respond respond) {
  absl::string_view content_type(request[http::field::content_type].data(),
                                 request[http::field::content_type].size());
  absl::string_view accept(request[http::field::accept].data(),
                           request[http::field::accept].size());
  absl::StatusOr<Encoding> request_encoding = RequestEncoding(content_type);
  Encoding encoding = ResponseEncoding(
      accept, request_encoding.ok() ? *request_encoding : Encoding::kJson);
  auto fail = [&](const absl::Status& status) {
    std::move(respond)(ErrorResponse(status, encoding));
  };
  if (!request_encoding.ok()) return fail(request_encoding.status());
  absl::StatusOr<Target> target = ParseTarget(path);
  if (!target.ok()) return fail(target.status());
  const http::verb method = request.method();
  const absl::string_view body(request.body());

  if (target->table.empty()) {  // /v1/tables
    if (method == http::verb::get) {
      absl::StatusOr<std::vector<TableSchema>> tables = engine_->ListTables();
      if (!tables.ok()) return fail(tables.status());
      v1::ListTablesResponse response;
      for (TableSchema& t : *tables) *response.add_tables() = std::move(t);
      return std::move(respond)(MessageResponse(200, response, encoding));
    }
    if (method == http::verb::post) {
      v1::CreateTableRequest create;
      absl::Status parsed = ParseMessage(body, *request_encoding, &create);
      if (!parsed.ok()) return fail(parsed);
      absl::Status created = engine_->CreateTable(create.table());
      if (!created.ok()) return fail(created);
      return std::move(respond)(MessageResponse(200, create.table(), encoding));
    }
    return fail(MethodNotSupported(request, path));
  }

  if (target->verb.empty()) {  // /v1/tables/{table}
    if (method == http::verb::get) {
      absl::StatusOr<TableSchema> table = engine_->GetTable(target->table);
      if (!table.ok()) return fail(table.status());
      return std::move(respond)(MessageResponse(200, *table, encoding));
    }
    if (method == http::verb::delete_) {
      absl::Status deleted = engine_->DeleteTable(target->table);
      if (!deleted.ok()) return fail(deleted);
      return std::move(respond)(MessageResponse(200, v1::Status(), encoding));
    }
    return fail(MethodNotSupported(request, path));
  }

  // What injection points match on (only built when injection is on).
  std::shared_ptr<RequestInfo> info;
  if (injection_ != nullptr) {
    info = std::make_shared<RequestInfo>();
    info->method = std::string(request.method_string());
    info->path = std::string(path);
    info->table = target->table;
    auto tag = request.find("X-Test-Tag");
    if (tag != request.end()) info->tag = std::string(tag->value());
  }
  auto set_row = [&info](const std::string& row_key) {
    if (info != nullptr) info->row_key = row_key;
  };

  if (target->verb == "mutateRow") {
    if (method != http::verb::post)
      return fail(MethodNotSupported(request, path));
    v1::MutateRowRequest mutate;
    absl::Status parsed = ParseMessage(body, *request_encoding, &mutate);
    if (!parsed.ok()) return fail(parsed);
    absl::StatusOr<std::vector<Mutation>> mutations =
        MutationsFromProto(mutate.mutations(), "mutations");
    if (!mutations.ok()) return fail(mutations.status());
    set_row(mutate.row_key());
    auto write = [this, table = target->table,
                  row = std::move(*mutate.mutable_row_key()),
                  mutations = std::move(*mutations),
                  encoding](Finish finish) mutable {
      engine_->MutateRow(
          table, std::move(row), std::move(mutations),
          [finish = std::move(finish), encoding](absl::Status status) mutable {
            if (!status.ok()) {
              std::move(finish)(false, ErrorResponse(status, encoding));
            } else {
              std::move(finish)(
                  true,
                  MessageResponse(200, v1::MutateRowResponse(), encoding));
            }
          });
    };
    return GatedWrite(info, encoding, std::move(respond), std::move(write));
  }
  if (target->verb == "mutateRows") {
    if (method != http::verb::post)
      return fail(MethodNotSupported(request, path));
    v1::MutateRowsRequest bulk;
    absl::Status parsed = ParseMessage(body, *request_encoding, &bulk);
    if (!parsed.ok()) return fail(parsed);
    return Gated(info, encoding, std::move(respond),
                 [this, info, encoding, table = target->table,
                  bulk = std::move(bulk)](HttpHandler::Respond answer) mutable {
                   MutateRows(table, std::move(bulk), info, encoding,
                              std::move(answer));
                 });
  }
  if (target->verb == "sampleRowKeys") {
    if (method != http::verb::get)
      return fail(MethodNotSupported(request, path));
    return Gated(
        info, encoding, std::move(respond),
        [this, table = target->table,
         encoding](HttpHandler::Respond answer) mutable {
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
  if (target->verb == "checkAndMutateRow") {
    if (method != http::verb::post)
      return fail(MethodNotSupported(request, path));
    v1::CheckAndMutateRowRequest check;
    absl::Status parsed = ParseMessage(body, *request_encoding, &check);
    if (!parsed.ok()) return fail(parsed);
    std::vector<Mutation> lists[2];
    const char* names[2] = {"trueMutations", "falseMutations"};
    const google::protobuf::RepeatedPtrField<v1::Mutation>* sources[2] = {
        &check.true_mutations(), &check.false_mutations()};
    for (int b = 0; b < 2; ++b) {
      if (sources[b]->empty()) continue;
      absl::StatusOr<std::vector<Mutation>> converted =
          MutationsFromProto(*sources[b], names[b]);
      if (!converted.ok()) return fail(converted.status());
      lists[b] = std::move(*converted);
    }
    std::shared_ptr<const CompiledFilter> predicate;
    if (check.has_predicate()) {
      absl::StatusOr<std::unique_ptr<CompiledFilter>> compiled =
          CompiledFilter::Compile(check.predicate());
      if (!compiled.ok()) return fail(compiled.status());
      predicate = std::move(*compiled);
    }
    set_row(check.row_key());
    auto write = [this, table = target->table,
                  row = std::move(*check.mutable_row_key()),
                  predicate = std::move(predicate),
                  on_true = std::move(lists[0]), on_false = std::move(lists[1]),
                  encoding](Finish finish) mutable {
      engine_->CheckAndMutateRow(
          table, std::move(row), std::move(predicate), std::move(on_true),
          std::move(on_false),
          [finish = std::move(finish),
           encoding](absl::StatusOr<bool> matched) mutable {
            if (!matched.ok()) {
              std::move(finish)(false,
                                ErrorResponse(matched.status(), encoding));
              return;
            }
            v1::CheckAndMutateRowResponse response;
            response.set_predicate_matched(*matched);
            std::move(finish)(true, MessageResponse(200, response, encoding));
          });
    };
    return GatedWrite(info, encoding, std::move(respond), std::move(write));
  }
  if (target->verb == "readModifyWriteRow") {
    if (method != http::verb::post)
      return fail(MethodNotSupported(request, path));
    v1::ReadModifyWriteRowRequest rmw;
    absl::Status parsed = ParseMessage(body, *request_encoding, &rmw);
    if (!parsed.ok()) return fail(parsed);
    std::vector<v1::ReadModifyWriteRule> rules(rmw.rules().begin(),
                                               rmw.rules().end());
    set_row(rmw.row_key());
    auto write = [this, table = target->table,
                  row = std::move(*rmw.mutable_row_key()),
                  rules = std::move(rules), encoding](Finish finish) mutable {
      engine_->ReadModifyWriteRow(
          table, std::move(row), std::move(rules),
          [finish = std::move(finish),
           encoding](absl::StatusOr<v1::Row> result) mutable {
            if (!result.ok()) {
              std::move(finish)(false,
                                ErrorResponse(result.status(), encoding));
              return;
            }
            v1::ReadModifyWriteRowResponse response;
            *response.mutable_row() = std::move(*result);
            std::move(finish)(true, MessageResponse(200, response, encoding));
          });
    };
    return GatedWrite(info, encoding, std::move(respond), std::move(write));
  }
  if (target->verb == "readRows") {
    if (method != http::verb::post)
      return fail(MethodNotSupported(request, path));
    v1::ReadRowsRequest read;
    absl::Status parsed = ParseMessage(body, *request_encoding, &read);
    if (!parsed.ok()) return fail(parsed);
    if (read.rows_limit() < 0) {
      return fail(absl::InvalidArgumentError("rowsLimit must not be negative"));
    }
    std::unique_ptr<CompiledFilter> filter;
    if (read.has_filter()) {
      absl::StatusOr<std::unique_ptr<CompiledFilter>> compiled =
          CompiledFilter::Compile(read.filter());
      if (!compiled.ok()) return fail(compiled.status());
      filter = std::move(*compiled);
    }
    if (read.rows().row_keys_size() == 1 && read.rows().row_ranges().empty()) {
      set_row(read.rows().row_keys(0));  // a point read
    }
    auto start = [this, info, table = target->table, read = std::move(read),
                  filter = std::move(filter),
                  encoding](HttpHandler::Respond answer) mutable {
      absl::StatusOr<std::unique_ptr<RowScanner>> scanner =
          engine_->ScanRows(table, read.rows(), read.reversed());
      if (!scanner.ok()) {
        return std::move(answer)(ErrorResponse(scanner.status(), encoding));
      }
      HttpResponse header{http::status::ok, 11};
      absl::string_view type = encoding == Encoding::kJson
                                   ? kNdjsonContentType
                                   : ContentTypeOf(encoding);
      header.set(http::field::content_type,
                 boost::beast::string_view(type.data(), type.size()));
      InjectionRegistry* watch = nullptr;
      int64_t after_rows = 0;
      if (injection_ != nullptr && injection_->armed(PointId::kReadRowsRow)) {
        watch = injection_;
        after_rows =
            injection_->IntParameter(PointId::kReadRowsRow, "after_rows", 1);
      }
      std::move(answer)(HttpReply(
          std::move(header),
          std::make_unique<ReadRowsSource>(std::move(*scanner),
                                           std::move(filter), read.rows_limit(),
                                           encoding, watch, info, after_rows)));
    };
    return Gated(info, encoding, std::move(respond), std::move(start));
  }
  fail(absl::NotFoundError(absl::StrCat("no such call: ", target->verb)));
}

}  // namespace kvstore::store
