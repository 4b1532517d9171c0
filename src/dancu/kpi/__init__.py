"""Figures born from operations: aggregates, Decision 766's index, Project 06 figures and the
dashboards (issue #14; docs/kpi.md)."""
