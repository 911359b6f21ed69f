"""The schools page and the school dialog."""
