"""Marketing permissions: the panel on a prospect, consent, lawful basis, opt-outs, assessments, the suppression list."""
