"""The prospects page: list and search, the prospect's detail, adding and editing, logging contacts, interests, history."""
