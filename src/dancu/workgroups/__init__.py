"""Working groups, their plans and tasks, and the frozen 15-day and monthly reports (issue #14)."""
