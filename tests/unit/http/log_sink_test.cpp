// The log sink never blocks its callers on a reader that stopped reading (a full pipe): lines
// beyond its bound are dropped and counted, and the count is written once the pipe drains.
// (Here because todo_http_test links todo_log; the log module has no test binary of its own.)
#include "log/log.h"
#include "log/sink.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <vector>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace todo::log {
namespace {

// {"ts":"YYYY-MM-DDTHH:MM:SS.mmmZ", — checked by hand: <regex> trips GCC 12's
// -Wmaybe-uninitialized at -O2 (the ci preset builds with -Werror).
bool starts_with_a_timestamp(std::string_view line) {
  constexpr std::string_view kPrefix = "{\"ts\":\"";
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ\",";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  line.remove_prefix(kPrefix.size());
  if (line.size() < kShape.size()) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = line[i] >= '0' && line[i] <= '9';
    if (kShape[i] == 'd' ? !digit : line[i] != kShape[i]) return false;
  }
  return true;
}

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    ::close(read_end);
    ::close(write_end);
  }
  // Reads what is there now without blocking.
  std::string drain() {
    std::string out;
    int flags = ::fcntl(read_end, F_GETFL);
    ::fcntl(read_end, F_SETFL, flags | O_NONBLOCK);
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(read_end, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  int read_end = -1;
  int write_end = -1;
};

TEST(LogSink, NeverBlocksOnAPipeNobodyReadsAndCountsWhatItDropped) {
  Pipe pipe;
  std::string all;
  std::string tail;
  std::atomic<bool> sink_gone{false};
  std::thread drainer;
  {
    Sink sink(pipe.write_end, 256 * 1024);
    std::string line(200, 'x');
    line += '\n';
    // 20 MB of lines, warnings among them, into a 64 KiB pipe nobody reads: with a blocking
    // sink this never returns.
    auto writer = std::async(std::launch::async, [&sink, &line] {
      for (int i = 0; i < 100000; ++i) sink.add(line, i % 100 == 0);
    });
    ASSERT_EQ(writer.wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << "add() blocked on the full pipe";
    EXPECT_GT(sink.dropped_total(), 0u);

    // The reader comes back: the buffered lines and then the drop notice arrive.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (all.find("log lines dropped") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      all += pipe.drain();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_NE(all.find("\"msg\":\"log lines dropped\",\"count\":"), std::string::npos);
    // Keep reading while the sink shuts down: its destructor writes what is still buffered, and
    // would wait for a reader that stopped (the test's, not the sink's, bug).
    drainer = std::thread([&pipe, &tail, &sink_gone] {
      while (!sink_gone.load()) {
        tail += pipe.drain();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  sink_gone.store(true);
  drainer.join();
  all += tail;
  all += pipe.drain();
  // Whole lines only: every byte written belongs to a complete line.
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), '\n');
}

TEST(LogSink, WritesEveryLineWhenTheReaderKeepsUp) {
  Pipe pipe;
  {
    Sink sink(pipe.write_end, 1024 * 1024);
    sink.add("first\n", false);
    sink.add("second\n", true);
    sink.flush();
    EXPECT_EQ(sink.dropped_total(), 0u);
  }
  EXPECT_EQ(pipe.drain(), "first\nsecond\n");
}

// The sink's thread sleeps without a timeout while nothing is buffered: the next line must wake it.
TEST(LogSink, TheThreadWritesWithoutFlushAlsoAfterAQuietSpell) {
  Pipe pipe;
  Sink sink(pipe.write_end, 1024 * 1024);
  sink.add("info\n", false);
  sink.add("warning\n", true);
  // Written by the sink's thread, without flush(); the 60 s only turn a hang into a failure.
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (got != "info\nwarning\n" && std::chrono::steady_clock::now() < deadline) {
    got += pipe.drain();
    std::this_thread::yield();
  }
  EXPECT_EQ(got, "info\nwarning\n");
  // And a line after a quiet spell is written too (the thread slept without a timeout).
  sink.add("later\n", false);
  got.clear();
  while (got != "later\n" && std::chrono::steady_clock::now() < deadline) {
    got += pipe.drain();
    std::this_thread::yield();
  }
  EXPECT_EQ(got, "later\n");
}

// log::write escapes strings eight bytes at a time where it can: every character that must be
// escaped is, wherever it sits in a word, and nothing else changes.
std::string escaped_by_hand(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

TEST(LogWrite, EscapesWhatJsonNeedsWhereverItSitsAndNothingElse) {
  Pipe pipe;
  const int saved_stderr = ::dup(STDERR_FILENO);
  ASSERT_GE(saved_stderr, 0);
  ASSERT_EQ(::dup2(pipe.write_end, STDERR_FILENO), STDERR_FILENO);
  std::vector<std::string> values;
  const std::string specials = std::string("\"\\\n\r\t\x01\x1f", 7) + std::string(1, '\0');
  for (std::size_t length : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 40u}) {
    for (char special : specials) {
      for (std::size_t at = 0; at < length; at += 3) {
        std::string v(length, 'a');
        for (std::size_t i = 0; i < length; ++i) v[i] = static_cast<char>('a' + i % 26);
        v[at] = special;
        values.push_back(v);
      }
    }
  }
  // UTF-8, DEL and high bytes stay as they are.
  values.push_back("caf\xc3\xa9 \x7f \xff\x80 \x20~");
  std::string got;
  for (const auto& v : values) {
    write(Level::kWarn, v, {{"k", std::string_view(v)}});
    flush();
    got += pipe.drain();
  }
  ::dup2(saved_stderr, STDERR_FILENO);
  ::close(saved_stderr);
  std::size_t line_start = 0;
  for (const auto& v : values) {
    const std::size_t end = got.find('\n', line_start);
    ASSERT_NE(end, std::string::npos);
    const std::string line = got.substr(line_start, end - line_start);
    line_start = end + 1;
    const std::string want = "\"level\":\"warn\",\"msg\":\"" + escaped_by_hand(v) + "\",\"k\":\"" +
                             escaped_by_hand(v) + "\"}";
    EXPECT_NE(line.find(want), std::string::npos) << line;
    EXPECT_TRUE(starts_with_a_timestamp(line)) << line;
  }
}

}  // namespace
}  // namespace todo::log
