"""The cycle-approximate tier: in-order queues with dependency tokens (hwsim.timing.engine)."""
