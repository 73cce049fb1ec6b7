"""User story: `sudo slokeeper demo --real-node` tells the README demo's story on real pods serving
real requests: a good version promoted, a failing one and a slow one rolled back, each leaving
the same stable pods serving. Apart from test_demo_command so the scheduler in tests/conftest.py
runs it with the other real-node files, one real node at a time."""

from __future__ import annotations

import re
from pathlib import Path

from integration.test_demo_command import demo


def test_the_demo_on_a_real_node_promotes_and_rolls_back_real_pods() -> None:
    out, seconds = demo("--real-node")
    assert "one real node, Prometheus inside it" in out
    assert "A load generator pod sends 40 requests/s to the checkout Service" in out
    shown = out.split("VERSION=1.2 PROFILE=healthy")[1].split("VERSION=1.3-bad")[0]
    # The share shown is of Ready pods: the last canary pod may become Ready in the tick that
    # promotes, so step 2 can show less than its 50 % before Promoting.
    assert re.search(r"step 2, canary [\d.]+% of pods \(planned 50%\)", shown), shown
    told = out[out.index("1.2: ") :]
    assert "1.2: Promoted (Promoted) after 2 step(s)." in told, told
    untouched = "after 1 step(s); stable pods: the same 4, 0 restarts."
    assert f"1.3-bad: RolledBack (AnalysisFailed on checkout-availability) {untouched}" in told, (
        told
    )
    assert f"1.4-slow: RolledBack (AnalysisFailed on checkout-latency) {untouched}" in told, told
    assert "Real requests, as the load generator counted them: load: " in told, told
    print(f"real-node demo took {seconds:.0f}s")
    kubeconfig = out.split("export KUBECONFIG=")[1].split()[0]
    assert not Path(kubeconfig).exists()
