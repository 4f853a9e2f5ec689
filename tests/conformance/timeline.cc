#include "tests/conformance/timeline.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/sse_parser.h"
#include "tests/conformance/markup.h"

namespace kvstore::conformance {
namespace {

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", c));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

std::string RpcJson(const TimelineRpc& rpc) {
  return absl::StrCat(
      "{\"method\":", JsonString(rpc.method),
      ",\"summary\":", JsonString(rpc.summary), ",\"start_us\":", rpc.start_us,
      ",\"end_us\":", rpc.end_us, ",\"code\":", rpc.code,
      ",\"message\":", JsonString(rpc.message),
      ",\"rpc_failed\":", rpc.rpc_failed ? "true" : "false", "}");
}

std::string FailureJson(const TimelineFailure& f) {
  return absl::StrCat("{\"at_us\":", f.at_us,
                      ",\"where\":", JsonString(f.where),
                      ",\"message\":", JsonString(f.message), "}");
}

// One bar or tick of the page.
struct Item {
  int lane = 0;  // kLanes
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::string label;
  std::string detail;
  bool bad = false;
  int row = 0;  // within its lane, so that items do not overlap
};

constexpr const char* kLanes[] = {"proxy RPCs", "store requests (journal)",
                                  "injection events", "assertions"};

Item RequestItem(const InjectionEventRecord& e) {
  // (The store writes the entries: one that does not parse shows as empty.)
  JournalRecord r = ParseJournalRecord(e.data).value_or(JournalRecord{});
  const std::string fired = absl::StrJoin(r.injections, ", ");
  Item item;
  item.lane = 1;
  item.start_us = r.start_us;
  item.end_us = r.end_us;
  item.label = absl::StrCat(
      r.route, " ", r.status == 0 ? "no answer" : absl::StrCat(r.status),
      r.cut ? " (cut)" : "");
  item.detail =
      absl::StrCat(r.method, " ", r.path, " on connection ", r.connection,
                   ", rows [", absl::StrJoin(r.row_keys, ", "), "], ",
                   r.bytes_in, " bytes in, ", r.bytes_out, " bytes out",
                   fired.empty() ? "" : absl::StrCat("; fired: ", fired));
  item.bad = r.status == 0 || r.status >= 400 || r.cut || !fired.empty();
  return item;
}

Item EventItem(const InjectionEventRecord& e) {
  Item item;
  item.lane = 2;
  item.start_us = item.end_us =
      static_cast<int64_t>(internal::SseNumberField(e.data, "ts_us"));
  item.label =
      absl::StrCat(e.injection, " ", e.phase,
                   e.type.empty() ? "" : absl::StrCat(" (", e.type, ")"));
  item.detail = e.data;
  item.bad = e.phase == "fired";
  return item;
}

std::vector<Item> Items(const std::vector<TimelineRpc>& rpcs,
                        const std::vector<TimelineFailure>& failures,
                        const std::vector<InjectionEventRecord>& store) {
  std::vector<Item> items;
  for (const TimelineRpc& rpc : rpcs) {
    items.push_back({0, rpc.start_us, rpc.end_us,
                     absl::StrCat(rpc.method, " → ", rpc.code),
                     absl::StrCat(rpc.summary, rpc.message.empty() ? "" : ": ",
                                  rpc.message),
                     rpc.code != 0});
  }
  for (const InjectionEventRecord& e : store) {
    if (e.phase == "hello" || e.phase == "gap") continue;
    items.push_back(e.phase == "request" ? RequestItem(e) : EventItem(e));
  }
  for (const TimelineFailure& f : failures) {
    items.push_back({3, f.at_us, f.at_us, f.where, f.message, true});
  }
  std::stable_sort(
      items.begin(), items.end(),
      [](const Item& a, const Item& b) { return a.start_us < b.start_us; });
  return items;
}

// Gives each item the first row of its lane where it overlaps nothing.
void AssignRows(std::vector<Item>& items, int64_t min_span_us,
                std::vector<int>* rows_per_lane) {
  std::vector<std::vector<int64_t>> row_ends(std::size(kLanes));
  for (Item& item : items) {
    std::vector<int64_t>& ends = row_ends[item.lane];
    const int64_t end = std::max(item.end_us, item.start_us + min_span_us);
    size_t row = 0;
    while (row < ends.size() && ends[row] > item.start_us) ++row;
    if (row == ends.size()) ends.push_back(0);
    ends[row] = end;
    item.row = static_cast<int>(row);
  }
  for (const auto& ends : row_ends) {
    rows_per_lane->push_back(std::max<int>(1, static_cast<int>(ends.size())));
  }
}

constexpr const char* kStyle =
    "body{font:13px system-ui,sans-serif;margin:16px;color:#222}"
    "h1{font-size:16px}.lane{display:flex;border-top:1px solid #ddd}"
    ".name{width:170px;flex:none;padding:4px;font-weight:600}"
    ".track{position:relative;flex:1;background:#fafafa}"
    ".item{position:absolute;height:18px;min-width:3px;overflow:hidden;"
    "white-space:nowrap;font-size:11px;line-height:18px;padding:0 2px;"
    "box-sizing:border-box;border-radius:2px;background:#cfe3ff;"
    "border:1px solid #6a9be0}.bad{background:#ffd3d0;border-color:#d9534f}"
    "table{border-collapse:collapse;margin-top:16px;width:100%}"
    "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;"
    "vertical-align:top;font-size:12px}td.d{font-family:monospace;"
    "word-break:break-all}tr.bad td{background:#fff0ef}";

std::string LanesHtml(const std::vector<Item>& items,
                      const std::vector<int>& rows, int64_t t0, double span) {
  std::string html;
  for (size_t lane = 0; lane < std::size(kLanes); ++lane) {
    absl::StrAppend(&html, "<div class=\"lane\"><div class=\"name\">",
                    kLanes[lane], "</div><div class=\"track\" style=\"height:",
                    rows[lane] * 20 + 2, "px\">");
    for (const Item& item : items) {
      if (item.lane != static_cast<int>(lane)) continue;
      const double left =
          100.0 * static_cast<double>(item.start_us - t0) / span;
      const double width =
          100.0 * static_cast<double>(item.end_us - item.start_us) / span;
      absl::StrAppend(&html, "<div class=\"item", item.bad ? " bad" : "",
                      "\" style=\"left:", absl::StrFormat("%.3f", left),
                      "%;width:", absl::StrFormat("%.3f", width),
                      "%;top:", item.row * 20, "px\" title=\"",
                      XmlEscaped(absl::StrCat(item.label, "\n", item.detail)),
                      "\">", XmlEscaped(item.label), "</div>");
    }
    absl::StrAppend(&html, "</div></div>\n");
  }
  return html;
}

std::string TableHtml(const std::vector<Item>& items, int64_t t0) {
  std::string html =
      "<table><tr><th>+ms</th><th>took ms</th><th>lane</th><th>what</th>"
      "<th>detail</th></tr>\n";
  for (const Item& item : items) {
    absl::StrAppend(
        &html, "<tr", item.bad ? " class=\"bad\"" : "", "><td>",
        absl::StrFormat("%.3f", (item.start_us - t0) / 1000.0), "</td><td>",
        absl::StrFormat("%.3f", (item.end_us - item.start_us) / 1000.0),
        "</td><td>", kLanes[item.lane], "</td><td>", XmlEscaped(item.label),
        "</td><td class=\"d\">", XmlEscaped(item.detail), "</td></tr>\n");
  }
  return html + "</table>\n";
}

}  // namespace

void Timeline::AddRpc(TimelineRpc rpc) {
  absl::MutexLock lock(&mu_);
  rpcs_.push_back(std::move(rpc));
}

void Timeline::AddFailure(TimelineFailure failure) {
  absl::MutexLock lock(&mu_);
  failures_.push_back(std::move(failure));
}

std::string Timeline::Json(
    const std::string& test, bool failed,
    const std::vector<InjectionEventRecord>& store) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> rpcs, requests, events, failures;
  for (const TimelineRpc& rpc : rpcs_) rpcs.push_back(RpcJson(rpc));
  for (const InjectionEventRecord& e : store) {
    if (e.phase == "hello" || e.phase == "gap") continue;
    (e.phase == "request" ? requests : events).push_back(e.data);
  }
  for (const TimelineFailure& f : failures_) failures.push_back(FailureJson(f));
  return absl::StrCat("{\"test\":", JsonString(test),
                      ",\"failed\":", failed ? "true" : "false", ",\"rpcs\":[",
                      absl::StrJoin(rpcs, ","), "],\"requests\":[",
                      absl::StrJoin(requests, ","), "],\"events\":[",
                      absl::StrJoin(events, ","), "],\"failures\":[",
                      absl::StrJoin(failures, ","), "]}\n");
}

std::string Timeline::Html(
    const std::string& test, bool failed,
    const std::vector<InjectionEventRecord>& store) const {
  std::vector<Item> items;
  {
    absl::MutexLock lock(&mu_);
    items = Items(rpcs_, failures_, store);
  }
  int64_t t0 = items.empty() ? 0 : items.front().start_us, t1 = t0 + 1;
  for (const Item& item : items) t1 = std::max(t1, item.end_us);
  const double span = static_cast<double>(t1 - t0);
  std::vector<int> rows;
  // An item narrower than 2% of the axis still takes that much room.
  AssignRows(items, static_cast<int64_t>(span / 50), &rows);
  return absl::StrCat(
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>",
      XmlEscaped(test), "</title><style>", kStyle,
      "</style></head><body>\n<h1>", XmlEscaped(test),
      failed ? " — failed" : " — passed", "</h1>\n<p>From ",
      absl::FormatTime("%Y-%m-%d %H:%M:%E3S UTC", absl::FromUnixMicros(t0),
                       absl::UTCTimeZone()),
      ", ", absl::StrFormat("%.1f", span / 1000.0),
      " ms in all. Hover an item for its detail; every item is listed below "
      "in time order. Red: a failure, a fault that fired, an error answer."
      "</p>\n",
      LanesHtml(items, rows, t0, span), TableHtml(items, t0),
      "</body></html>\n");
}

}  // namespace kvstore::conformance
