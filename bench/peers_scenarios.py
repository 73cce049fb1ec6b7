"""bench/peers.py parts 2 and 3: what each tool does, within 5 minutes, when the canary is Ready
but gets no traffic, when Prometheus stops in the middle of an analysis, and when a rolled-back
version is reverted to stable and then shipped again. The tools run side by side, each in its
own namespace with its own controller; one loop polls them all and prints each one's timeline:
every change of what it says and of its pods."""

from __future__ import annotations

import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field

from peers_common import STABLE, Bench, Tool, guarded, pods

OBSERVE = 300.0  # 5 minutes


@dataclass
class Watch:
    """One tool guarding one namespace, the image it was last shipped, and what it showed."""

    tool: Tool
    namespace: str
    image: str = STABLE
    began: float = field(default_factory=time.monotonic)
    last: str = ""
    lines: list[str] = field(default_factory=list)
    decided_at: float | None = None
    seen_new: bool = False  # the new version's pods have appeared

    def pod_summary(self, bench: Bench) -> tuple[str, bool]:
        """'4x1.1 Ready, 1x1.5.1-idle Ready' and whether the tool has decided (the new
        version's pods are all gone, or no stable pod is left)."""
        found = pods(bench, self.namespace)
        counts = Counter(
            f"{image.rsplit(':', 1)[-1]} {'Ready' if ready else 'not Ready'}"
            for _, image, ready in found
        )
        images = {image for _, image, _ in found}
        self.seen_new = self.seen_new or self.image in images
        decided = (
            self.image != STABLE
            and self.seen_new
            and (self.image not in images or STABLE not in images)
        )
        return ", ".join(f"{n}x{what}" for what, n in sorted(counts.items())), decided

    def look(self, bench: Bench) -> bool:
        """Record what changed; True once the tool decided more than 10 s ago."""
        summary, decided = self.pod_summary(bench)
        now = f"{self.tool.says(bench, self.namespace)} [pods: {summary}]"
        if now != self.last:
            self.lines.append(f"    +{time.monotonic() - self.began:5.1f}s {now}")
            self.last = now
        if decided and self.decided_at is None:
            self.decided_at = time.monotonic()
        return self.decided_at is not None and time.monotonic() - self.decided_at > 10

    def ship(self, bench: Bench, image: str) -> None:
        self.tool.ship(bench, self.namespace, image)
        self.image, self.began, self.last, self.decided_at = image, time.monotonic(), "", None
        self.seen_new = False
        self.lines.append(f"    shipped {image}")


def guarded_watches(stack: ExitStack, bench: Bench, tools: list[Tool], prefix: str) -> list[Watch]:
    """A watch per tool, each in its own namespace ``<prefix>-<n>`` guarded by that tool until
    ``stack`` closes."""
    watches = []
    for number, tool in enumerate(tools, start=1):
        watch = Watch(tool, f"{prefix}-{number}")
        stack.enter_context(guarded(bench, tool, watch.namespace))
        watches.append(watch)
    return watches


def observe(bench: Bench, watches: list[Watch], seconds: float) -> None:
    """Poll every tool until each has decided (and 10 s more) or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all([watch.look(bench) for watch in watches]):
            return
        time.sleep(1)


def report(title: str, watches: list[Watch]) -> None:
    print(f"{title}:", flush=True)
    for watch in watches:
        print(f"  {watch.tool.name}:")
        print("\n".join(watch.lines), flush=True)
        watch.lines.clear()


def no_traffic(bench: Bench, tools: list[Tool]) -> None:
    """A version whose pods are Ready but get no request (the simulator's `-idle` profile)."""
    with ExitStack() as stack:
        watches = guarded_watches(stack, bench, tools, "p2-idle")
        for watch in watches:
            watch.ship(bench, "shop/checkout:1.5.1-idle")
        observe(bench, watches, OBSERVE)
        report("no traffic: the canary is Ready but gets no request (5 minutes at most)", watches)


def prometheus_down(bench: Bench, tools: list[Tool]) -> None:
    """A healthy version shipped; Prometheus stopped 15 s after every canary has a Ready pod,
    for 5 minutes, then started again."""
    image = "shop/checkout:1.6.1"
    with ExitStack() as stack:
        watches = guarded_watches(stack, bench, tools, "p2-down")
        for watch in watches:
            watch.ship(bench, image)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not all(
            any(i == image and ready for _, i, ready in pods(bench, w.namespace)) for w in watches
        ):
            for watch in watches:
                watch.look(bench)
            time.sleep(1)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            for watch in watches:
                watch.look(bench)
            time.sleep(1)
        bench.prometheus.stop()
        for watch in watches:
            watch.lines.append(f"    +{time.monotonic() - watch.began:5.1f}s PROMETHEUS STOPPED")
        try:
            observe(bench, watches, OBSERVE)
        finally:
            bench.prometheus.start()
        report("Prometheus stopped mid-analysis of a healthy version (5 minutes at most)", watches)


def revert_and_retry(bench: Bench, tools: list[Tool]) -> None:
    """A failing version rolled back; the image set back to stable; the failing one shipped
    again."""
    bad = "shop/checkout:1.7.1-bad"
    with ExitStack() as stack:
        watches = guarded_watches(stack, bench, tools, "p3-retry")
        for watch in watches:
            watch.ship(bench, bad)
        observe(bench, watches, OBSERVE)
        report(f"revert and retry, 1: {bad} shipped", watches)
        for watch in watches:
            watch.ship(bench, STABLE)  # nothing new to decide: watched for the full 90 s
        observe(bench, watches, 90)
        report("revert and retry, 2: the image set back to stable (90 s)", watches)
        for watch in watches:
            watch.ship(bench, bad)
        observe(bench, watches, 150)
        report(f"revert and retry, 3: {bad} shipped again (150 s at most)", watches)
