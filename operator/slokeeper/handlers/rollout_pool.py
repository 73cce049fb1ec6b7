"""How many ChangeRollouts tick at once unless the operator is told otherwise.

Kept apart from the scheduler so the command line can show the default without importing kopf.
"""

DEFAULT_CONCURRENCY = 8
