"""The SLO loop and the rollout loop: observe, call the core, apply, through Protocol ports."""
