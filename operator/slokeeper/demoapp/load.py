"""The demo's load generator: real HTTP GETs to one URL (a Service's, say) at a fixed rate.

Run: ``python3 -m slokeeper.demoapp.load --url http://10.96.0.20/ --rate 20`` (in the demo app's
image). Requests start on schedule whatever earlier ones do, so a slow version does not lower
the offered rate; every ``--report-seconds`` a line gives the counts by status code.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType

Fetch = Callable[[str, float], str]


def fetch(url: str, timeout: float) -> str:
    """GET ``url``; the status code as text, or ``error`` when no answer came."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            response.read()
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except (OSError, ValueError):
        return "error"


@dataclass
class LoadGenerator:
    """Sends ``rate`` requests a second to ``url`` until stopped, counting answers by code."""

    url: str
    rate: float
    timeout: float = 5.0
    fetch: Fetch = fetch
    clock: Callable[[], float] = time.monotonic
    counts: Counter[str] = field(default_factory=Counter)
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def due(self, started: float, now: float) -> int:
        """How many requests should have started by ``now`` (the first at ``started``)."""
        return int((now - started) * self.rate) + 1 if now >= started else 0

    def _one(self) -> None:
        code = self.fetch(self.url, self.timeout)
        with self._lock:
            self.counts[code] += 1

    def run(
        self,
        seconds: float | None = None,
        report: Callable[[str], None] | None = None,
        report_seconds: float = 10.0,
    ) -> Counter[str]:
        """Send until ``stop()`` (or for ``seconds``); returns the counts by code."""
        started = self.clock()
        next_report = started + report_seconds
        workers = max(4, int(self.rate * self.timeout) + 1)
        with ThreadPoolExecutor(max_workers=min(workers, 256)) as pool:
            while not self._stop.is_set():
                now = self.clock()
                if seconds is not None and now - started >= seconds:
                    break
                for _ in range(self.due(started, now) - self.sent):
                    pool.submit(self._one)
                    self.sent += 1
                if report is not None and now >= next_report:
                    report(self.summary())
                    next_report += report_seconds
                self._stop.wait(min(0.05, 1.0 / self.rate))
        return Counter(self.counts)

    def summary(self) -> str:
        with self._lock:
            codes = ", ".join(f"{code}: {count}" for code, count in sorted(self.counts.items()))
        return f"load: {self.sent} sent to {self.url} ({codes or 'no answers yet'})"

    def stop(self) -> None:
        self._stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m slokeeper.demoapp.load", description=__doc__)
    parser.add_argument("--url", required=True, help="the URL to GET, e.g. a Service's")
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second (20)")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: never)")
    parser.add_argument("--timeout", type=float, default=5.0, help="per request (5 s)")
    parser.add_argument("--report-seconds", type=float, default=10.0, help="between lines (10)")
    arguments = parser.parse_args(argv)
    if arguments.rate <= 0:
        parser.error("--rate must be positive")
    generator = LoadGenerator(arguments.url, arguments.rate, timeout=arguments.timeout)

    def stop(_signal: int, _frame: FrameType | None) -> None:
        generator.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    generator.run(arguments.seconds, lambda line: print(line, flush=True), arguments.report_seconds)
    print(generator.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
