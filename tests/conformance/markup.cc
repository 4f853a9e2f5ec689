#include "tests/conformance/markup.h"

#include <fstream>

namespace kvstore::conformance {

std::string XmlEscaped(absl::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 has no other control characters than tab and newlines.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

bool WriteTextFile(const std::string& path, absl::string_view text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace kvstore::conformance
