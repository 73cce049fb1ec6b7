"""slokeeper: Service Level Objectives as error budgets, burn-rate alerts and SLO-gated rollouts.

The package is split into a pure core (``slo``, ``rollout``), the typed resources (``api``),
adapters (``kube``, ``prometheus``), the loops that join them, kopf ``handlers`` and the ``cli``.
``localcluster`` starts the real local control plane that tests and the demo run against.
"""

__version__ = "0.1.0"
