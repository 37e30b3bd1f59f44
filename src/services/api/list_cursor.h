// Opaque, signed cursors of task list pages: a client cannot forge or alter a position, and a
// cursor only works with the sort it was made for.
#pragma once

#include "domain/error.h"
#include "store/task_repository.h"

#include <string>
#include <string_view>

namespace todo::services::api {

class ListCursorCodec {
 public:
  explicit ListCursorCodec(std::string key) : key_(std::move(key)) {}
  std::string encode(store::TaskSort sort, bool descending,
                     const store::TaskPosition& position) const;
  // kBadRequest (field "cursor") when malformed, tampered with or made for another sort/order.
  domain::Result<store::TaskPosition> decode(std::string_view cursor, store::TaskSort sort,
                                             bool descending) const;

 private:
  std::string key_;
};

}  // namespace todo::services::api
