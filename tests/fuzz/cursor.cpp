// Cursor decoding: the task list's (services/api ListCursorCodec::decode) and the audit log's
// (services/audit AuditCursorCodec::decode), with a fixed key. Each input is decoded as it is (a
// cursor as a client sends it back) and, so that the fuzzer reaches what lies behind the MAC, also
// as the body of a cursor: base64url-encoded and signed with the right key.
// Properties: nothing crashes or leaks; a refused cursor names the field "cursor"; an accepted one
// encodes again to a cursor that decodes to the same position.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/tokens.h"
#include "fuzz_support.h"
#include "services/api/list_cursor.h"
#include "services/audit/audit_cursor.h"

namespace {

using namespace todo;
using services::api::ListCursorCodec;
using services::audit::AuditCursorCodec;
using services::audit::CursorKind;

constexpr std::string_view kKey = "fuzz-cursor-key-fuzz-cursor-key-0123";
constexpr std::size_t kMacBytes = 16;  // as both codecs truncate it

constexpr store::TaskSort kSorts[] = {store::TaskSort::kCreatedAt, store::TaskSort::kDueDate,
                                      store::TaskSort::kPriority, store::TaskSort::kTitle,
                                      store::TaskSort::kUpdatedAt};

template <class T>
void check_refusal(const domain::Result<T>& result) {
  FUZZ_CHECK(!result.has_value());
  FUZZ_CHECK(result.error().code == domain::ErrorCode::kBadRequest);
  FUZZ_CHECK(result.error().fields.size() == 1 && result.error().fields[0].field == "cursor");
}

void check_list(const ListCursorCodec& codec, std::string_view cursor) {
  for (const store::TaskSort sort : kSorts) {
    for (const bool descending : {false, true}) {
      const auto position = codec.decode(cursor, sort, descending);
      if (!position) {
        check_refusal(position);
        continue;
      }
      const auto again = codec.decode(codec.encode(sort, descending, *position), sort, descending);
      FUZZ_CHECK(again.has_value());
      FUZZ_CHECK(again->id == position->id && again->value == position->value);
    }
  }
}

void check_audit(const AuditCursorCodec& codec, std::string_view cursor) {
  for (const CursorKind kind : {CursorKind::kList, CursorKind::kHistory}) {
    const auto id = codec.decode(cursor, kind);
    if (!id) {
      check_refusal(id);
      continue;
    }
    const auto again = codec.decode(codec.encode(kind, *id), kind);
    FUZZ_CHECK(again.has_value() && *again == *id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ListCursorCodec list(std::string{kKey});
  static const AuditCursorCodec audit(std::string{kKey});
  const std::string_view text = fuzz::as_text(data, size);

  check_list(list, text);
  check_audit(audit, text);

  const std::string body = auth::base64url_encode(text);
  const std::string signed_cursor =
      body + "." + auth::base64url_encode(auth::hmac_sha256(kKey, body).substr(0, kMacBytes));
  check_list(list, signed_cursor);
  check_audit(audit, signed_cursor);
  return 0;
}
