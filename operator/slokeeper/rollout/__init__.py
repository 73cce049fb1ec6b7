"""Pure rollout logic: step plan and replica maths, the state machine, analysis verdicts, calendars.

Like ``slo``, nothing here performs I/O; ``advance(spec, status, observations, now)`` returns a new
status and the actions for ``kube`` to apply.
"""
