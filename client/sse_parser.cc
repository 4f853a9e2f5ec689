#include "client/sse_parser.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kvstore::internal {

void SseParser::Feed(absl::string_view bytes, OnEvent on_event) {
  buffer_.append(bytes.data(), bytes.size());
  size_t start = 0;
  while (true) {
    size_t end = buffer_.find("\n\n", start);
    if (end == std::string::npos) break;
    Dispatch(absl::string_view(buffer_).substr(start, end - start), on_event);
    start = end + 2;
  }
  buffer_.erase(0, start);
}

void SseParser::Dispatch(absl::string_view block, OnEvent on_event) {
  absl::string_view name = "message", id;
  std::string data;  // several data: lines join with '\n'
  int data_lines = 0;
  while (!block.empty()) {
    size_t eol = block.find('\n');
    absl::string_view line = block.substr(0, eol);
    block = eol == absl::string_view::npos ? absl::string_view()
                                           : block.substr(eol + 1);
    if (line.empty() || line[0] == ':') continue;  // a comment: heartbeat
    size_t colon = line.find(':');
    absl::string_view field = line.substr(0, colon);
    absl::string_view value =
        colon == absl::string_view::npos ? "" : line.substr(colon + 1);
    absl::ConsumePrefix(&value, " ");
    if (field == "event") {
      name = value;
    } else if (field == "id") {
      id = value;
    } else if (field == "data") {
      if (data_lines++ > 0) data += "\n";
      data.append(value.data(), value.size());
    }
  }
  on_event(name, id, data);
}

std::string SseStringField(absl::string_view json, absl::string_view key) {
  std::string needle = absl::StrCat("\"", key, "\":\"");
  size_t at = json.find(needle);
  if (at == absl::string_view::npos) return "";
  std::string out;
  for (size_t i = at + needle.size(); i < json.size(); ++i) {
    char c = json[i];
    if (c == '"') return out;
    if (c == '\\' && i + 1 < json.size()) {
      char e = json[++i];
      out.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e);
    } else {
      out.push_back(c);
    }
  }
  return "";
}

uint64_t SseNumberField(absl::string_view json, absl::string_view key) {
  std::string needle = absl::StrCat("\"", key, "\":");
  size_t at = json.find(needle);
  if (at == absl::string_view::npos) return 0;
  absl::string_view rest = json.substr(at + needle.size());
  size_t end = rest.find_first_not_of("0123456789");
  uint64_t value = 0;
  if (!absl::SimpleAtoi(rest.substr(0, end), &value)) return 0;
  return value;
}

}  // namespace kvstore::internal
