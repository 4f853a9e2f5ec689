// The error-injection registry and its event hub, in process: triggers,
// counters, pause/message/timeout, and the hub's ordering, replay, filters and
// gaps. (The HTTP side is in error_injection_test.cc.)
#include "store/injection/injection_registry.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/status_http.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/status_matchers.h"

using ::kvstore::testing::IsOk;

namespace kvstore::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RequestInfo Req(std::string row_key = "r", std::string tag = "") {
  RequestInfo r;
  r.method = "POST";
  r.path = "/v1/tables/t:mutateRow";
  r.table = "t";
  r.row_key = std::move(row_key);
  r.tag = std::move(tag);
  return r;
}

class RegistryTest : public ::testing::Test {
 protected:
  // Checks the point synchronously (for actions that answer at once).
  Verdict CheckNow(PointId id, const RequestInfo& r = Req()) {
    std::optional<Verdict> out;
    registry_->Check(id, r, [&](Verdict v) { out = std::move(v); });
    EXPECT_TRUE(out.has_value()) << "the point parked the request";
    return out.value_or(Verdict{});
  }
  PointState State(absl::string_view name) {
    absl::StatusOr<PointState> s = registry_->State(name);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.value_or(PointState{});
  }

  std::unique_ptr<InjectionRegistry> registry_ =
      InjectionRegistry::Create(InjectionOptions{});
};

TEST_F(RegistryTest, DisarmedPointsLetRequestsThrough) {
  EXPECT_FALSE(registry_->armed(PointId::kRequestParsed));
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
  EXPECT_EQ(State("request.parsed").hits, 0);
}

TEST_F(RegistryTest, UnknownPointsAndBadParametersAreRejected) {
  EXPECT_EQ(registry_->Arm("no.such.point", false, {}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registry_->Arm("request.parsed", false, {{"stauts", "503"}}).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status unsupported =
      registry_->Arm("storage.write", false, {{"action", "pause"}});
  EXPECT_EQ(unsupported.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unsupported.message()), HasSubstr("supports"));
  EXPECT_EQ(
      registry_->Arm("request.parsed", false, {{"probability", "1.5"}}).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(registry_->armed(PointId::kRequestParsed));
}

TEST_F(RegistryTest, AnErrorsBodyMayCarryItsOwnCodeOrBeText) {
  EXPECT_EQ(registry_->Arm("request.parsed", false, {{"body", "xml"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->Arm("request.parsed", false, {{"code", "17"}}).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_THAT(registry_->Arm("request.parsed", false,
                             {{"status", "503"}, {"code", "3"}}),
              IsOk());
  Verdict coded = CheckNow(PointId::kRequestParsed);
  EXPECT_EQ(HttpStatusOf(coded.error), 503);
  EXPECT_EQ(coded.error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(coded.text_body);
  ASSERT_THAT(registry_->Arm("request.parsed", false,
                             {{"status", "502"}, {"body", "text"}}),
              IsOk());
  Verdict text = CheckNow(PointId::kRequestParsed);
  EXPECT_TRUE(text.text_body);
  EXPECT_EQ(text.error.code(), absl::StatusCode::kUnavailable);
}

TEST_F(RegistryTest, OneShotFiresOnceThenCountsHits) {
  ASSERT_THAT(registry_->Arm("request.parsed", true,
                             {{"status", "503"}, {"retry_after", "2"}}),
              IsOk());
  Verdict first = CheckNow(PointId::kRequestParsed);
  EXPECT_EQ(first.kind, Verdict::kError);
  EXPECT_EQ(HttpStatusOf(first.error), 503);
  EXPECT_EQ(first.retry_after_s, 2);
  EXPECT_EQ(first.error.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
  PointState s = State("request.parsed");
  EXPECT_TRUE(s.armed);
  EXPECT_TRUE(s.exhausted);
  EXPECT_EQ(s.hits, 2);
  EXPECT_EQ(s.fires, 1);
}

TEST_F(RegistryTest, SkipLetsTheFirstHitsPass) {
  ASSERT_THAT(
      registry_->Arm("request.parsed", false, {{"skip", "2"}, {"count", "1"}}),
      IsOk());
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kError);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
  EXPECT_EQ(State("request.parsed").fires, 1);
}

TEST_F(RegistryTest, ProbabilityWithASeedReplaysTheSameSequence) {
  auto run = [&] {
    EXPECT_THAT(registry_->Arm("request.parsed", false,
                               {{"probability", "0.5"}, {"seed", "42"}}),
                IsOk());
    std::string pattern;
    for (int i = 0; i < 64; ++i) {
      pattern +=
          CheckNow(PointId::kRequestParsed).kind == Verdict::kError ? 'x' : '.';
    }
    return pattern;
  };
  std::string first = run();
  EXPECT_EQ(run(), first);  // re-arming resets the generator
  EXPECT_THAT(first, HasSubstr("x"));
  EXPECT_THAT(first, HasSubstr("."));
}

TEST_F(RegistryTest, MatchScopesHitsToOneRowOrTag) {
  ASSERT_THAT(registry_->Arm("request.parsed", false,
                             {{"row_key", "hot"}, {"tag", "test-1"}}),
              IsOk());
  EXPECT_EQ(CheckNow(PointId::kRequestParsed, Req("cold", "test-1")).kind,
            Verdict::kProceed);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed, Req("hot", "other")).kind,
            Verdict::kProceed);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed, Req("hot", "test-1")).kind,
            Verdict::kError);
  EXPECT_EQ(State("request.parsed").hits, 1);  // misses are not hits
}

TEST_F(RegistryTest, ArmingReplacesAndResetsCountersWhichOutliveDisarming) {
  ASSERT_THAT(registry_->Arm("request.parsed", false, {}), IsOk());
  CheckNow(PointId::kRequestParsed);
  CheckNow(PointId::kRequestParsed);
  ASSERT_THAT(registry_->Disarm("request.parsed"), IsOk());
  PointState after = State("request.parsed");
  EXPECT_FALSE(after.armed);
  EXPECT_EQ(after.fires, 2);  // still readable
  ASSERT_THAT(registry_->Arm("request.parsed", false, {{"action", "drop"}}),
              IsOk());
  EXPECT_EQ(State("request.parsed").fires, 0);
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kDrop);
}

TEST_F(RegistryTest, PauseParksUntilAMessage) {
  ASSERT_THAT(registry_->Arm("request.parsed", false, {{"action", "pause"}}),
              IsOk());
  absl::Notification released;
  registry_->Check(PointId::kRequestParsed, Req(), [&](Verdict v) {
    EXPECT_EQ(v.kind, Verdict::kProceed);
    released.Notify();
  });
  EXPECT_FALSE(released.HasBeenNotified());
  EXPECT_EQ(State("request.parsed").waiting, 1);
  ASSERT_THAT(registry_->Message("request.parsed"), IsOk());
  released.WaitForNotification();
  EXPECT_EQ(State("request.parsed").waiting, 0);
}

TEST_F(RegistryTest, AMessageBeforeThePauseIsLatched) {
  ASSERT_THAT(registry_->Arm("request.parsed", false, {{"action", "pause"}}),
              IsOk());
  ASSERT_THAT(registry_->Message("request.parsed"), IsOk());
  // Passes at once: the message was waiting for it.
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
}

TEST_F(RegistryTest, DisarmingReleasesParkedRequests) {
  ASSERT_THAT(registry_->Arm("request.parsed", false, {{"action", "pause"}}),
              IsOk());
  absl::Notification released;
  registry_->Check(PointId::kRequestParsed, Req(),
                   [&](Verdict) { released.Notify(); });
  ASSERT_THAT(registry_->Disarm("request.parsed"), IsOk());
  released.WaitForNotification();
}

TEST_F(RegistryTest, APauseTimesOutAndGoesOn) {
  auto events =
      registry_->events().Subscribe({}, std::nullopt, absl::Seconds(60));
  ASSERT_THAT(registry_->Arm("request.parsed", false,
                             {{"action", "pause"}, {"timeout_ms", "1"}}),
              IsOk());
  absl::Notification released;
  registry_->Check(PointId::kRequestParsed, Req(),
                   [&](Verdict) { released.Notify(); });
  released.WaitForNotification();
  std::optional<std::string> text = events->Take();
  ASSERT_TRUE(text.has_value());
  EXPECT_THAT(*text, HasSubstr("event: paused"));
  EXPECT_THAT(*text, HasSubstr("event: timeout"));
}

TEST_F(RegistryTest, ShutdownReleasesParkedRequestsAndEndsStreams) {
  ASSERT_THAT(registry_->Arm("request.parsed", false, {{"action", "pause"}}),
              IsOk());
  auto events =
      registry_->events().Subscribe({}, std::nullopt, absl::Seconds(60));
  absl::Notification released;
  registry_->Check(PointId::kRequestParsed, Req(),
                   [&](Verdict) { released.Notify(); });
  registry_->Shutdown();
  released.WaitForNotification();
  ASSERT_TRUE(events->Take().has_value());   // what was queued
  EXPECT_FALSE(events->Take().has_value());  // then the end
  EXPECT_EQ(CheckNow(PointId::kRequestParsed).kind, Verdict::kProceed);
}

TEST(InjectionEventsTest, HelloThenEventsInSeqOrderWithTheirIds) {
  InjectionEvents hub(InjectionEvents::Options{});
  hub.Publish("a", "fired", "");
  auto sub = hub.Subscribe({}, std::nullopt, absl::Seconds(60));
  hub.Publish("a", "hit", ",\"x\":1");
  std::string text = sub->Take().value();
  EXPECT_THAT(text, HasSubstr("event: hello\ndata: {\"current_seq\":1"));
  EXPECT_THAT(text, Not(HasSubstr("id: 1\n")));  // before the subscription
  EXPECT_THAT(text, HasSubstr("id: 2\nevent: hit\ndata: {\"seq\":2,"));
  EXPECT_THAT(text, HasSubstr("\"x\":1}\n\n"));
}

TEST(InjectionEventsTest, ReplayFromHistoryAndAGapForWhatLeftIt) {
  InjectionEvents::Options options;
  options.history = 3;
  InjectionEvents hub(options);
  for (int i = 0; i < 6; ++i) hub.Publish("a", "fired", "");
  auto sub = hub.Subscribe({}, uint64_t{1}, absl::Seconds(60));
  std::string text = sub->Take().value();
  // Seqs 2 and 3 are gone (history keeps 4..6).
  EXPECT_THAT(text,
              HasSubstr("event: gap\ndata: {\"lost_from\":2,\"lost_to\":3}"));
  EXPECT_THAT(text, HasSubstr("id: 4\n"));
  EXPECT_THAT(text, HasSubstr("id: 6\n"));
}

TEST(InjectionEventsTest, FiltersByInjectionAndPhase) {
  InjectionEvents hub(InjectionEvents::Options{});
  EventFilter filter;
  filter.injections = {"b"};
  filter.phases = {"paused"};
  auto sub = hub.Subscribe(filter, std::nullopt, absl::Seconds(60));
  sub->Take();  // hello
  hub.Publish("a", "paused", "");
  hub.Publish("b", "fired", "");
  hub.Publish("b", "paused", "");
  std::string text = sub->Take().value();
  EXPECT_THAT(text, HasSubstr("id: 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("id: 1\n")));
  EXPECT_THAT(text, Not(HasSubstr("id: 2\n")));
}

TEST(InjectionEventsTest, ASlowSubscriberGetsAGapNotABlockedPublisher) {
  InjectionEvents::Options options;
  options.subscriber_queue = 2;
  InjectionEvents hub(options);
  auto slow = hub.Subscribe({}, std::nullopt, absl::Seconds(60));
  auto fast = hub.Subscribe({}, std::nullopt, absl::Seconds(60));
  slow->Take();
  fast->Take();
  for (int i = 0; i < 5; ++i) {
    hub.Publish("a", "fired", "");
    fast->Take();  // keeps up
  }
  std::string text = slow->Take().value();
  size_t one = text.find("id: 1\n"), two = text.find("id: 2\n"),
         gap = text.find("event: gap\ndata: {\"lost_from\":3,\"lost_to\":5}");
  ASSERT_NE(one, std::string::npos);
  ASSERT_NE(two, std::string::npos);
  ASSERT_NE(gap, std::string::npos);
  EXPECT_LT(one, two);
  EXPECT_LT(two, gap);  // in seq order: the queued events, then the loss
}

TEST(InjectionEventsTest, ReadinessCallbackAndCleanup) {
  InjectionEvents hub(InjectionEvents::Options{});
  auto sub = hub.Subscribe({}, std::nullopt, absl::Seconds(60));
  sub->Take();
  bool ready = false;
  sub->NotifyWhenReady([&] { ready = true; });
  EXPECT_FALSE(ready);
  hub.Publish("a", "fired", "");
  EXPECT_TRUE(ready);
  EXPECT_EQ(hub.subscribers(), 1u);
  sub.reset();
  EXPECT_EQ(hub.subscribers(), 0u);
}

TEST(InjectionEventsTest, JsonEscapeKeepsAnyBytes) {
  EXPECT_EQ(JsonEscape(std::string("a\"b\\c\n\x01\xff", 8)),
            "a\\\"b\\\\c\\n\\u0001\\u00ff");
}

}  // namespace
}  // namespace kvstore::store
