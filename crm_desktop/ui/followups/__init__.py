"""The follow-ups page: contacts due, overdue and coming up."""
