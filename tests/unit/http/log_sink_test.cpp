// The log sink never blocks its callers on a reader that stopped reading (a full pipe): lines
// beyond its bound are dropped and counted, and the count is written once the pipe drains.
// (Here because todo_http_test links todo_log; the log module has no test binary of its own.)
#include "log/sink.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace todo::log {
namespace {

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

}  // namespace
}  // namespace todo::log
