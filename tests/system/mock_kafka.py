"""The client side of librdkafka's mock cluster helper (tests/support/kafka_mock_broker, a process
of its own): it prints its bootstrap servers, then obeys `down N`, `up N`, `topic NAME COUNT` and
`quit` on stdin, answering each with one line. The 2.0.2 mock cluster does not implement
CreateTopics, so the topics are created through the helper. Used by the system tests and by
bench/kafka_figures.py."""

import os
import subprocess

# DESIGN §5's topics and partition counts; each has a one-partition .dlq beside it.
TOPICS = {"task-events": 3, "task-updates": 3, "reminders": 1}


def helper_path(todo_bin):
    """TODO_KAFKA_MOCK_BROKER, else the helper in the build tree of `todo_bin`; None when it is
    not built."""
    path = os.environ.get("TODO_KAFKA_MOCK_BROKER")
    if not path:
        build = os.path.dirname(os.path.dirname(os.path.dirname(todo_bin)))  # build/<preset>
        path = os.path.join(build, "tests", "support", "kafka_mock_broker")
    return path if os.access(path, os.X_OK) else None


class MockKafka:
    def __init__(self, path, topics=None):
        """Starts the helper; creates `topics` (name -> partitions) and their .dlq topics."""
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.brokers = self.proc.stdout.readline().strip()
        if not self.brokers:
            self.close()
            raise RuntimeError("the Kafka mock broker printed no address")
        for topic, partitions in (topics or {}).items():
            self.command(f"topic {topic} {partitions}")
            self.command(f"topic {topic}.dlq 1")

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"the Kafka mock broker answered {answer!r} to {line!r}")

    def end_offsets(self, topic, partitions):
        """partition -> the offset the next message of `topic` will get (kcat's -Q at -1)."""
        argv = ["kcat", "-b", self.brokers, "-Q"]
        for p in range(partitions):
            argv += ["-t", f"{topic}:{p}:-1"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            return None
        ends = {}
        for line in out.stdout.splitlines():  # "task-events [0] offset 12"
            parts = line.split()
            if len(parts) == 4 and parts[0] == topic and parts[2] == "offset":
                ends[int(parts[1].strip("[]"))] = int(parts[3])
        return ends if len(ends) == partitions else None

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
