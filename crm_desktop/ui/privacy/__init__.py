"""Data-protection requests and rights: the requests page, access packs, rectification, erasure, restriction, retention."""
