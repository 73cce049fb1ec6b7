"""Pure SLO maths: windows and burn-rate tables, error budgets, rule generation, budget policy.

Nothing here performs I/O or imports a client, framework or model library (an import-linter
contract enforces it); functions take plain values and ``now`` and return decisions.
"""
