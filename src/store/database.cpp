// Typed access to result rows, and the parts of Transaction that are not backend-specific.
#include "store/database.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "log/log.h"

namespace todo::store {
namespace {

std::string_view type_name(const Value& v) {
  switch (v.index()) {
    case 0:
      return "NULL";
    case 1:
      return "integer";
    case 2:
      return "real";
    default:
      return "text";
  }
}

[[noreturn]] void throw_wrong_type(std::size_t i, std::string_view wanted, const Value& got) {
  throw DatabaseError("column " + std::to_string(i) + ": expected " + std::string(wanted) +
                      ", got " + std::string(type_name(got)));
}

// PostgreSQL runs a one-statement read outside a READ ONLY transaction, so only a SELECT is let
// through (a WITH could hide a data-modifying statement).
void refuse_all_but_select(std::string_view sql) {
  const auto start = sql.find_first_not_of(" \t\r\n");
  const auto word = start == std::string_view::npos ? std::string_view{} : sql.substr(start, 7);
  const bool select =
      word.size() >= 6 &&
      std::equal(word.begin(), word.begin() + 6, "SELECT",
                 [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; }) &&
      (word.size() == 6 || !std::isalnum(static_cast<unsigned char>(word[6])));
  if (!select) {
    throw DatabaseError("read_statement: only a SELECT (" + std::string(sql.substr(0, 60)) + ")");
  }
}

// A transaction that lets one statement through to `inner` and refuses a second.
class OneStatement final : public Transaction {
 public:
  explicit OneStatement(Transaction& inner) : inner_(inner) {}
  using Transaction::execute;
  using Transaction::query;
  Dialect dialect() const override { return inner_.dialect(); }
  std::vector<Row> query(std::string_view sql, std::span<const Value> params) override {
    count(sql);
    return inner_.query(sql, params);
  }
  std::int64_t execute(std::string_view sql, std::span<const Value> params) override {
    count(sql);
    return inner_.execute(sql, params);
  }
  void query_each(std::string_view sql, std::span<const Value> params,
                  const std::function<void(const RowView&)>& each) override {
    count(sql);
    inner_.query_each(sql, params, each);
  }
  void execute_script(std::string_view) override {
    throw DatabaseError("read_statement: a script is more than one statement");
  }
  void savepoint(const std::function<void()>&) override {
    throw DatabaseError("read_statement: no savepoint in a one-statement read");
  }

 private:
  void count(std::string_view sql) {
    if (++statements_ > 1) {
      throw DatabaseError("read_statement: a second statement (" + std::string(sql.substr(0, 60)) +
                          ")");
    }
    refuse_all_but_select(sql);
  }
  Transaction& inner_;
  int statements_ = 0;
};

}  // namespace

void Transaction::query_each(std::string_view sql, std::span<const Value> params,
                             const std::function<void(const RowView&)>& each) {
  for (const Row& row : query(sql, params)) each(RowOfValues(row));
}

void Database::read_statement(const std::function<void(Transaction&)>& work) {
  read_one_statement([&](Transaction& tx) {
    OneStatement one(tx);
    work(one);
  });
}

void Database::read_statement_async(std::string sql, std::vector<Value> params,
                                    std::function<void(const RowView&)> each,
                                    std::function<void(std::exception_ptr)> done) {
  try {
    refuse_all_but_select(sql);
  } catch (...) {
    done(std::current_exception());
    return;
  }
  queue_one_statement(std::move(sql), std::move(params), std::move(each), std::move(done));
}

void Database::queue_one_statement(std::string sql, std::vector<Value> params,
                                   std::function<void(const RowView&)> each,
                                   std::function<void(std::exception_ptr)> done) {
  std::exception_ptr error;
  try {
    read_statement([&](Transaction& s) { s.query_each(sql, params, each); });
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
}

void Database::write_async(std::function<void(Transaction&)> work,
                           std::function<void(std::exception_ptr)> done) {
  std::exception_ptr error;
  try {
    write(work);
  } catch (...) {
    error = std::current_exception();
  }
  done(error);
}

bool Database::ping() {
  try {
    read([](Transaction& s) { s.query("SELECT 1"); });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

const Value& Row::at(std::size_t i) const {
  if (i >= values_.size()) {
    throw DatabaseError("column " + std::to_string(i) + ": out of range (the row has " +
                        std::to_string(values_.size()) + " columns)");
  }
  return values_[i];
}

bool Row::is_null(std::size_t i) const { return std::holds_alternative<std::monostate>(at(i)); }

std::int64_t Row::integer(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  throw_wrong_type(i, "integer", v);
}

// An integer is accepted where a real is asked for: SQL engines return integral results of
// numeric expressions as integers, and the widening loses nothing a caller of real() cares about.
double Row::real(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
  throw_wrong_type(i, "real", v);
}

const std::string& Row::text(std::size_t i) const {
  const Value& v = at(i);
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  throw_wrong_type(i, "text", v);
}

std::optional<std::int64_t> Row::optional_integer(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return integer(i);
}

std::optional<std::string> Row::optional_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

void LogAppends::add(std::string_view topic, int partition) {
  if (touches_exactly(topic, partition)) return;
  partitions_.push_back(Partition{std::string(topic), partition});
}

bool LogAppends::touches(std::string_view topic, int partition) const {
  return anything_ || touches_exactly(topic, partition);
}

bool LogAppends::touches(std::string_view topic) const {
  return anything_ || std::any_of(partitions_.begin(), partitions_.end(),
                                  [&](const Partition& p) { return p.topic == topic; });
}

bool LogAppends::touches_exactly(std::string_view topic, int partition) const {
  return std::any_of(partitions_.begin(), partitions_.end(), [&](const Partition& p) {
    return p.partition == partition && p.topic == topic;
  });
}

thread_local const CommitListeners* CommitListeners::notifying_ = nullptr;

CommitListenerId CommitListeners::add(CommitListener listener) {
  std::lock_guard lock(mutex_);
  const CommitListenerId id = ++last_id_;
  listeners_.emplace(id, std::make_shared<const CommitListener>(std::move(listener)));
  return id;
}

// Waits for the notifications that started before the removal (they may hold a copy of the
// listener); later ones no longer see it.
void CommitListeners::remove(CommitListenerId id) {
  std::unique_lock lock(mutex_);
  listeners_.erase(id);
  if (notifying_ == this) return;
  const std::uint64_t before = notification_seq_;
  idle_.wait(lock, [&] { return active_.empty() || *active_.begin() > before; });
}

void CommitListeners::notify(const LogAppends& appends) {
  std::vector<Listener> listeners;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (listeners_.empty()) return;
    listeners.reserve(listeners_.size());
    for (const auto& [id, listener] : listeners_) listeners.push_back(listener);
    seq = ++notification_seq_;
    active_.insert(seq);
  }
  const CommitListeners* outer = notifying_;
  notifying_ = this;
  for (const auto& listener : listeners) {
    try {
      (*listener)(appends);
    } catch (const std::exception& e) {
      log::error("a commit listener failed", {{"error", e.what()}});
    } catch (...) {
      // Still logged and contained: escaping would leave this notification active for ever,
      // and remove() waiting on it.
      log::error("a commit listener failed with something that is not a std::exception");
    }
  }
  notifying_ = outer;
  {
    std::lock_guard lock(mutex_);
    active_.erase(seq);
  }
  idle_.notify_all();
}

void Transaction::execute_script(std::string_view /*sql*/) {
  throw DatabaseError("execute_script is not supported by this session");
}

}  // namespace todo::store
