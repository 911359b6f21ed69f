"""Readers and writers for files that leave or enter the app."""
