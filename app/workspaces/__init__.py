"""Workspaces: parts of an organization (departments, projects, environments)."""
