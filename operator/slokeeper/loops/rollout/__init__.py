"""The rollout loop: one tick of one ChangeRollout, through the ports it declares."""
