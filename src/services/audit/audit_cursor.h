// Opaque, signed cursors of audit pages: a client cannot forge a position, and a cursor of the
// audit list does not work for a task's history (or the other way round).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/error.h"

namespace todo::services::audit {

enum class CursorKind { kList, kHistory };

class AuditCursorCodec {
 public:
  explicit AuditCursorCodec(std::string key) : key_(std::move(key)) {}
  // `last_id` is the id of the last entry of the page just served.
  std::string encode(CursorKind kind, std::int64_t last_id) const;
  // kBadRequest (field "cursor") when malformed, tampered with or made for the other kind.
  domain::Result<std::int64_t> decode(std::string_view cursor, CursorKind kind) const;

 private:
  std::string key_;
};

}  // namespace todo::services::audit
