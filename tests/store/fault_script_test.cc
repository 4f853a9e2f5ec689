// Fault scripts in process: the term language's parser, and an arming's
// steps in the registry (order, counts, probability with a seed, `off`,
// per-step counters, the step index on events, and one validation for both
// forms). The HTTP side is in fault_script_http_test.cc.
#include "store/injection/fault_script.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/injection/injection_registry.h"
#include "tests/common/status_matchers.h"

namespace kvstore::store {
namespace {

using ::kvstore::testing::IsOk;
using ::kvstore::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FaultScriptTest, ParsesCountsProbabilitiesAndArguments) {
  absl::StatusOr<std::vector<StepParameters>> steps = ParseFaultScript(
      " 2*error(503, retry_after=1) -> 25%delay(40)->1*truncate(3)->off ");
  ASSERT_THAT(steps, IsOk());
  EXPECT_THAT(*steps, ElementsAre(StepParameters{{"action", "error"},
                                                 {"count", "2"},
                                                 {"status", "503"},
                                                 {"retry_after", "1"}},
                                  StepParameters{{"action", "delay"},
                                                 {"probability", "0.25"},
                                                 {"delay_ms", "40"}},
                                  StepParameters{{"action", "truncate"},
                                                 {"count", "1"},
                                                 {"after_rows", "3"}},
                                  StepParameters{{"action", "off"}}));
}

TEST(FaultScriptTest, ProbabilityAndCountCombineAndArrowsInsideValuesStay) {
  absl::StatusOr<std::vector<StepParameters>> steps =
      ParseFaultScript("50%3*error(message=a->b)");
  ASSERT_THAT(steps, IsOk());
  EXPECT_THAT(*steps, ElementsAre(StepParameters{{"action", "error"},
                                                 {"probability", "0.5"},
                                                 {"count", "3"},
                                                 {"message", "a->b"}}));
}

TEST(FaultScriptTest, SyntaxErrorsNameTheStep) {
  struct Case {
    const char* script;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"", "script is empty"},
           {"error->", "script step 2 (''): expected an action name"},
           {"0*error", "script step 1 ('0*error'): a count is a whole"},
           {"x*error", "a count is a whole number"},
           {"150%error", "a probability is a percentage in (0, 100]"},
           {"error(503", "arguments lack a closing ')'"},
           {"error(503,504)", "takes one bare value"},
           {"drop(1)", "action 'drop' takes no bare value"},
           {"error(,)", "an empty argument"},
           {"error(503,status=504)", "'status' is given twice"},
           {"error(st atus=5)", "an argument's key must be a name"},
       }) {
    EXPECT_THAT(
        ParseFaultScript(c.script),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.script;
  }
  EXPECT_THAT(ParseFaultScript(std::string(kMaxScriptBytes + 1, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string many = "off";
  for (size_t i = 0; i < kMaxSteps; ++i) many += "->off";
  EXPECT_THAT(ParseFaultScript(many),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at most 64 steps")));
}

RequestInfo Req() {
  RequestInfo r;
  r.method = "POST";
  r.path = "/v1/tables/t:mutateRow";
  r.table = "t";
  r.row_key = "r";
  return r;
}

class StepsTest : public ::testing::Test {
 protected:
  // The verdict kinds of `n` requests at request.parsed.
  std::vector<Verdict::Kind> Run(int n) {
    std::vector<Verdict::Kind> kinds;
    for (int i = 0; i < n; ++i) {
      std::optional<Verdict> out;
      registry_->Check(PointId::kRequestParsed, Req(),
                       [&](Verdict v) { out = std::move(v); });
      EXPECT_TRUE(out.has_value());
      kinds.push_back(out.has_value() ? out->kind : Verdict::kProceed);
    }
    return kinds;
  }
  absl::Status ArmSteps(absl::string_view name,
                        std::vector<StepParameters> steps) {
    return registry_->Arm(name, false, {}, std::move(steps));
  }
  PointState State() {
    absl::StatusOr<PointState> s = registry_->State("request.parsed");
    EXPECT_THAT(s, IsOk());
    return s.value_or(PointState{});
  }

  std::unique_ptr<InjectionRegistry> registry_ =
      InjectionRegistry::Create(InjectionOptions{});
};

constexpr Verdict::Kind kError = Verdict::kError;
constexpr Verdict::Kind kDrop = Verdict::kDrop;
constexpr Verdict::Kind kPass = Verdict::kProceed;

TEST_F(StepsTest, StepsRunInOrderThenPass) {
  ASSERT_THAT(registry_->Arm("request.parsed", false,
                             {{"script", "2*error(503)->1*drop->off"}}),
              IsOk());
  EXPECT_EQ(State().step, 0);
  EXPECT_THAT(Run(5), ElementsAre(kError, kError, kDrop, kPass, kPass));
  PointState s = State();
  EXPECT_EQ(s.hits, 5);
  EXPECT_EQ(s.fires, 3);  // `off` lets hits pass: not a fire
  EXPECT_EQ(s.step, 2);   // on the unlimited `off`
  ASSERT_EQ(s.steps.size(), 3u);
  EXPECT_EQ(s.steps[0].action, "error");
  EXPECT_EQ(s.steps[0].fires, 2);
  EXPECT_EQ(s.steps[1].fires, 1);
  EXPECT_EQ(s.steps[2].reached, 2);
  EXPECT_FALSE(s.exhausted);
}

TEST_F(StepsTest, AfterTheLastCountedStepEverythingPasses) {
  ASSERT_THAT(
      ArmSteps("request.parsed", {{{"action", "error"}, {"count", "1"}},
                                  {{"action", "drop"}, {"count", "2"}}}),
      IsOk());
  EXPECT_THAT(Run(5), ElementsAre(kError, kDrop, kDrop, kPass, kPass));
  EXPECT_TRUE(State().exhausted);
  EXPECT_EQ(State().step, 2);
}

TEST_F(StepsTest, WithoutACountAStepNeverRunsOut) {
  ASSERT_THAT(
      registry_->Arm("request.parsed", false, {{"script", "1*drop->error"}}),
      IsOk());
  EXPECT_THAT(Run(4), ElementsAre(kDrop, kError, kError, kError));
}

TEST_F(StepsTest, OffWithACountLetsThatManyPassFirst) {
  ASSERT_THAT(
      registry_->Arm("request.parsed", false, {{"script", "3*off->1*drop"}}),
      IsOk());
  EXPECT_THAT(Run(5), ElementsAre(kPass, kPass, kPass, kDrop, kPass));
}

TEST_F(StepsTest, AMissedProbabilityFallsToTheNextStepAndASeedReplays) {
  auto run = [&](const std::string& seed) {
    EXPECT_THAT(registry_->Arm("request.parsed", false,
                               {{"script", "50%error->drop"}, {"seed", seed}}),
                IsOk());
    return Run(40);
  };
  std::vector<Verdict::Kind> first = run("7");
  EXPECT_EQ(first, run("7"));
  EXPECT_NE(first, run("8"));
  int errors = 0;
  for (Verdict::Kind k : first) {
    EXPECT_NE(k, kPass);  // a miss is the drop's, never a pass
    errors += k == kError;
  }
  EXPECT_GT(errors, 5);
  EXPECT_LT(errors, 35);
  PointState s = State();
  EXPECT_EQ(s.steps[0].reached, 40);
  EXPECT_EQ(s.steps[0].fires + s.steps[1].fires, 40);
}

TEST_F(StepsTest, SkipAndMatchScopeTheWholeScript) {
  ASSERT_THAT(
      registry_->Arm(
          "request.parsed", false,
          {{"script", "1*error->1*drop"}, {"skip", "1"}, {"row_key", "r"}}),
      IsOk());
  EXPECT_THAT(Run(4), ElementsAre(kPass, kError, kDrop, kPass));
}

TEST_F(StepsTest, EveryEventCarriesItsStep) {
  ASSERT_THAT(registry_->Arm("request.parsed", false,
                             {{"script", "1*error(503)->1*drop"}}),
              IsOk());
  Run(2);
  EventFilter fired;
  fired.phases.insert("fired");
  std::string frames = registry_->events()
                           .Subscribe(fired, uint64_t{0}, absl::Seconds(60))
                           ->Take()
                           .value_or("");
  EXPECT_THAT(frames, HasSubstr("\"type\":\"error\",\"step\":0,\"steps\":2"));
  EXPECT_THAT(frames, HasSubstr("\"type\":\"drop\",\"step\":1,\"steps\":2"));
}

TEST_F(StepsTest, BothFormsGetTheSameValidationAndMessages) {
  absl::Status from_json =
      ArmSteps("request.parsed", {{{"action", "error"}, {"status", "700"}}});
  absl::Status from_script =
      registry_->Arm("request.parsed", false, {{"script", "error(700)"}});
  EXPECT_THAT(from_json, StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("step 1: parameter 'status'")));
  EXPECT_EQ(from_json, from_script);
  EXPECT_EQ(ArmSteps("request.parsed", {{{"action", "truncate"}}}),
            registry_->Arm("request.parsed", false, {{"script", "truncate"}}));
  EXPECT_THAT(ArmSteps("request.parsed", {{{"colour", "red"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("step 1: unknown parameter 'colour'")));
  EXPECT_THAT(registry_->Arm("request.parsed", false,
                             {{"script", "error"}, {"status", "503"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("belongs in a step")));
  EXPECT_THAT(
      registry_->Arm("request.parsed", true, {{"script", "error"}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one_shot")));
  EXPECT_THAT(
      registry_->Arm("request.parsed", false, {{"script", "error"}},
                     {{{"action", "drop"}}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not both")));
  EXPECT_FALSE(registry_->armed(PointId::kRequestParsed));
}

TEST_F(StepsTest, ReadRowsTakesAfterRowsFromTheStepItWouldTry) {
  ASSERT_THAT(
      registry_->Arm("read_rows.row", false,
                     {{"script", "1*error(503,after_rows=2)->truncate(5)"}}),
      IsOk());
  EXPECT_EQ(registry_->AfterRows(PointId::kReadRowsRow), 2);
  registry_->CheckNow(PointId::kReadRowsRow, Req());
  EXPECT_EQ(registry_->AfterRows(PointId::kReadRowsRow), 5);
}

}  // namespace
}  // namespace kvstore::store
