"""Service figures for the dashboard."""
