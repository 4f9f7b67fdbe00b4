"""Insights: human labels on runs, pattern metrics and dashboards, the pattern advisor, cost projection."""
