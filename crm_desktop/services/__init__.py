"""Use cases: one function per user action, one transaction each.

The GUI, the CLI and scripts all change data through these functions, so
permission checks and audit entries have one home.
"""

from .context import Context

__all__ = ["Context"]
