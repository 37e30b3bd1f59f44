// Unicode case folding and lower-casing through utf8proc.
#include "domain/text.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "domain/user.h"

namespace todo::domain {

namespace {

struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};

}  // namespace

std::string casefold(std::string_view text) {
  if (!is_valid_utf8(text)) return std::string(text);
  utf8proc_uint8_t* raw = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_CASEFOLD | UTF8PROC_COMPOSE |
                                                      UTF8PROC_COMPAT | UTF8PROC_STABLE);
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &raw, options);
  const std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(raw);
  // Only an allocation failure or a code point utf8proc rejects can get here after the check.
  if (length < 0 || raw == nullptr) return std::string(text);
  return std::string(reinterpret_cast<const char*>(raw), static_cast<std::size_t>(length));
}

std::string lowercase(std::string_view text) {
  if (!is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t pos = 0;
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  while (pos < size) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t read = utf8proc_iterate(bytes + pos, size - pos, &code_point);
    if (read <= 0) return std::string(text);
    pos += read;
    utf8proc_uint8_t encoded[4];
    const utf8proc_ssize_t written = utf8proc_encode_char(utf8proc_tolower(code_point), encoded);
    out.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(written));
  }
  return out;
}

}  // namespace todo::domain
