// What a generic gRPC client (grpcurl) does against the C++ test proxy binary,
// over the wire: list the services by reflection, resolve every one of them
// with file_containing_symbol (and each file's imports with file_by_filename)
// into a descriptor pool, then call grpc.health.v1.Health/Check.
//
// The reflection messages are read without their schema (UnknownFieldSet):
// Debian ships no reflection.proto, and declaring one would collide with the
// copy compiled into libgrpc++_reflection.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "proxy/proxy_server.h"
#include "tests/common/server_process.h"

namespace kvstore::proxy {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// ServerReflectionRequest / ServerReflectionResponse field numbers (v1alpha).
constexpr int kFileByFilename = 3;
constexpr int kFileContainingSymbol = 4;
constexpr int kListServices = 7;
constexpr int kFileDescriptorResponse = 4;
constexpr int kListServicesResponse = 6;
constexpr int kErrorResponse = 7;

std::string RequestWith(int field, const std::string& value) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteTag(static_cast<uint32_t>(field << 3 | 2));
  coded.WriteVarint32(static_cast<uint32_t>(value.size()));
  coded.WriteString(value);
  return out;
}

// The length-delimited fields numbered `number`, in order.
std::vector<std::string> Fields(const UnknownFieldSet& set, int number) {
  std::vector<std::string> out;
  for (int i = 0; i < set.field_count(); ++i) {
    const UnknownField& f = set.field(i);
    if (f.number() == number && f.type() == UnknownField::TYPE_LENGTH_DELIMITED)
      out.push_back(f.length_delimited());
  }
  return out;
}

// One ServerReflectionInfo stream, one request and answer at a time.
class ReflectionStream {
 public:
  explicit ReflectionStream(std::shared_ptr<grpc::Channel> channel)
      : stub_(std::move(channel)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    call_ = stub_.PrepareCall(
        &context_,
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq_);
    call_->StartCall(this);
    started_ = Await();
  }
  ~ReflectionStream() {
    context_.TryCancel();
    grpc::Status finished;
    call_->Finish(&finished, this);
    Await();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  // Sends one request; returns the answer's bytes.
  absl::StatusOr<std::string> Ask(const std::string& request) {
    if (!started_) return absl::UnavailableError("the stream did not start");
    grpc::Slice slice(request);
    grpc::ByteBuffer out(&slice, 1);
    call_->Write(out, this);
    if (!Await()) return absl::UnavailableError("write failed");
    grpc::ByteBuffer in;
    call_->Read(&in, this);
    if (!Await()) return absl::UnavailableError("read failed");
    std::vector<grpc::Slice> slices;
    if (!in.Dump(&slices).ok()) return absl::DataLossError("bad buffer");
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return bytes;
  }

  // The FileDescriptorProtos of an answer, or the server's error.
  absl::StatusOr<std::vector<google::protobuf::FileDescriptorProto>> Files(
      const std::string& request) {
    absl::StatusOr<std::string> bytes = Ask(request);
    if (!bytes.ok()) return bytes.status();
    UnknownFieldSet answer;
    if (!answer.ParseFromString(*bytes)) {
      return absl::DataLossError("unparsable reflection answer");
    }
    for (const std::string& error : Fields(answer, kErrorResponse)) {
      UnknownFieldSet e;
      e.ParseFromString(error);
      std::vector<std::string> message = Fields(e, 2);
      return absl::NotFoundError(message.empty() ? "error" : message[0]);
    }
    std::vector<google::protobuf::FileDescriptorProto> files;
    for (const std::string& response :
         Fields(answer, kFileDescriptorResponse)) {
      UnknownFieldSet r;
      r.ParseFromString(response);
      for (const std::string& file_bytes : Fields(r, 1)) {
        files.emplace_back();
        if (!files.back().ParseFromString(file_bytes)) {
          return absl::DataLossError("unparsable FileDescriptorProto");
        }
      }
    }
    return files;
  }

 private:
  bool Await() {
    void* tag = nullptr;
    bool ok = false;
    return cq_.Next(&tag, &ok) && ok;
  }

  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  bool started_ = false;
};

// Against the real kvstore_test_proxy binary: the descriptors reflection serves
// are the ones linked into it (this test links the health messages itself).
class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto proxy = testing::ServerProcess::Start(KVSTORE_PROXY_BINARY, {});
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    proxy_ = std::move(*proxy);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", proxy_->port()),
                                   grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<testing::ServerProcess> proxy_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReflectionTest, EveryListedServiceResolves) {
  ReflectionStream stream(channel_);
  absl::StatusOr<std::string> bytes =
      stream.Ask(RequestWith(kListServices, "*"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  UnknownFieldSet listed;
  ASSERT_TRUE(listed.ParseFromString(*bytes));
  std::vector<std::string> services;
  for (const std::string& response : Fields(listed, kListServicesResponse)) {
    UnknownFieldSet r;
    r.ParseFromString(response);
    for (const std::string& service : Fields(r, 1)) {
      UnknownFieldSet s;
      s.ParseFromString(service);
      for (const std::string& name : Fields(s, 1)) services.push_back(name);
    }
  }
  EXPECT_NE(std::find(services.begin(), services.end(),
                      std::string(kTestProxyServiceName)),
            services.end());
  EXPECT_NE(std::find(services.begin(), services.end(),
                      std::string("grpc.health.v1.Health")),
            services.end());

  // As grpcurl does: each service's file, then every file it imports.
  std::map<std::string, google::protobuf::FileDescriptorProto> files;
  std::vector<std::string> wanted;
  for (const std::string& service : services) {
    auto found = stream.Files(RequestWith(kFileContainingSymbol, service));
    ASSERT_TRUE(found.ok()) << service << ": " << found.status();
    ASSERT_FALSE(found->empty()) << service;
    for (auto& file : *found) {
      for (const std::string& dep : file.dependency()) wanted.push_back(dep);
      files[file.name()] = std::move(file);
    }
  }
  while (!wanted.empty()) {
    std::string name = wanted.back();
    wanted.pop_back();
    if (files.count(name) != 0) continue;
    auto found = stream.Files(RequestWith(kFileByFilename, name));
    ASSERT_TRUE(found.ok()) << name << ": " << found.status();
    for (auto& file : *found) {
      for (const std::string& dep : file.dependency()) wanted.push_back(dep);
      files[file.name()] = std::move(file);
    }
    ASSERT_NE(files.count(name), 0u) << name;
  }
  google::protobuf::DescriptorPool pool;
  // Files are built dependencies first.
  std::vector<std::string> order;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    if (std::find(order.begin(), order.end(), n) != order.end()) return;
    for (const std::string& dep : files[n].dependency()) visit(dep);
    order.push_back(n);
  };
  for (const auto& [name, file] : files) visit(name);
  for (const std::string& name : order) {
    ASSERT_NE(pool.BuildFile(files[name]), nullptr) << name;
  }
  for (const std::string& service : services) {
    EXPECT_NE(pool.FindServiceByName(service), nullptr) << service;
  }
}

TEST_F(ReflectionTest, HealthCheckAnswersForTheServerAndTheService) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (std::string service :
       {std::string(), std::string(kTestProxyServiceName)}) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    ASSERT_TRUE(status.ok())
        << "'" << service << "': " << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING)
        << service;
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse response;
  EXPECT_EQ(health->Check(&context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace kvstore::proxy
