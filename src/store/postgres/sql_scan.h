// A lexical scan of SQL text for the PostgreSQL backend: which $N placeholders it uses and the
// first keyword of each statement, skipping comments, quoted strings, quoted identifiers and
// dollar-quoted bodies. Internal to src/store/postgres.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace todo::store::postgres {

struct SqlShape {
  std::set<int> placeholders;                 // k of every $k
  std::vector<std::string> leading_keywords;  // upper-cased, one per non-empty statement
};

SqlShape scan_sql(std::string_view sql);

// scan_sql(), remembered on the calling thread for the texts it scanned last (the statements are
// built from constant text and a bounded set of optional clauses, so few texts recur). The
// reference is valid until this thread's next call.
const SqlShape& scan_sql_remembered(std::string_view sql);

// True when a statement starting with `keyword` would begin, end or name a transaction or a
// savepoint: only the backend itself may run those.
bool is_transaction_control(std::string_view keyword);

}  // namespace todo::store::postgres
