# Every third-party library comes from Debian 12 (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(SQLite3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# RRULE expansion for the recurrence engine (src/domain/recurrence.cpp only).
pkg_check_modules(LIBICAL REQUIRED IMPORTED_TARGET libical)
# The PostgreSQL backend (src/store/postgres) and the store tests' helper that starts a server.
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
# The Kafka bus (src/bus/kafka_*) and the tests' mock broker (tests/support/kafka_mock_broker).
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)


find_package(GTest REQUIRED)
# Outbound HTTP (notification channels) and their cryptography.
find_package(CURL 7.85 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
