"""kopf handlers and operator settings: wire the loops to watch events and timers."""
