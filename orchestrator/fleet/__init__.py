"""Many plans at once: parallel git worktrees on one machine, Temporal across machines."""
