"""The import wizard: contacts from files into prospects."""
