"""Administration: users and roles, settings, the audit trail."""
