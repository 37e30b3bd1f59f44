// PostgreSQL backend over libpq: a bounded pool of connections shared by reads and writes; reads
// in READ ONLY REPEATABLE READ transactions; writes run by one writer thread, the writes waiting
// together in one SERIALIZABLE transaction (group commit), run again on a conflict.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/database.h"
#include "store/open_database.h"  // redact_database_url

namespace todo::store {

struct PostgresOptions {
  // postgres://user:password@host:port/dbname?sslmode=... (or postgresql://, or a libpq
  // key=value string). Never logged or put into an error as given: see redact_database_url().
  std::string url;
  int pool_size = 5;                  // connections shared by read() and write()
  int statement_timeout_ms = 30'000;  // per statement, set on every connection
  // libpq's connect_timeout (its least is 2 s). A server that is down refuses at once; this bounds
  // the wait for one that does not answer at all, which a request waits through before its 503.
  int connect_timeout_s = 2;
  int max_write_attempts = 10;  // a write's closure runs at most this often
  int max_batch = 64;           // most writes that share one transaction (group commit)
  // Threads that send read_statement_async()'s reads, those waiting together in one pipeline
  // (each batch of at most max_batch on a pooled connection).
  int pipelined_readers = 1;
  // The writer threads of every process on this database take turns (a session advisory lock
  // held from just before each batch's BEGIN to just after its COMMIT), so their transactions
  // never conflict with one another. Off only in tests that need such a conflict.
  bool serialize_writers = true;
  // A LISTEN connection (outside the pool) that calls the commit listeners when another process
  // appends to the log. One-shot commands that wait for nothing do without it.
  bool hear_other_processes = true;
};

// Counters since open, for tests of group commit and of pipelined reads.
struct PostgresStats {
  std::int64_t commits = 0;  // group commits that succeeded
  std::int64_t writes = 0;   // write() calls the writer thread has run, committed or not
  std::int64_t pending = 0;  // write() calls waiting for the writer thread right now
  // Notifications the LISTEN connection dropped as the echo of this database's own commits.
  std::int64_t own_notifications_dropped = 0;
  // read_statement_async()'s reads the reader threads ran, and the pipelines they were sent in.
  std::int64_t pipelined_reads = 0;
  std::int64_t read_pipelines = 0;
};

// nullopt when `db` was not opened by open_postgres.
std::optional<PostgresStats> postgres_stats(const Database& db);

// Connects the pool and applies pending migrations. Throws DatabaseError on failure; the error
// names the server by its redacted URL.
std::unique_ptr<Database> open_postgres(const PostgresOptions& options);

// True when `db` is PostgreSQL and its notification connection LISTENs right now (false between
// a broken connection and its reconnection). Tests wait for it; /ready could report it.
bool postgres_listening(const Database& db);

// Runs `work` in a READ COMMITTED write transaction that first takes the migration advisory lock
// (pg_advisory_xact_lock), so each statement after it sees what other migrators committed before
// the lock was granted. For apply_migrations; throws DatabaseError when `db` is not PostgreSQL.
void postgres_migration_write(Database& db, const std::function<void(Transaction&)>& work);

}  // namespace todo::store
