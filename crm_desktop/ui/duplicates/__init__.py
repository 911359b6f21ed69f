"""Probable duplicates and the merge screen."""
