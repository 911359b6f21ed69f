"""The Qt desktop interface. The only package that imports PySide6.

Widgets change data only through ``crm_desktop.services``; every screen
shares one :class:`crm_desktop.services.Context`, so switching database is
one assignment to ``ctx.db`` followed by a refresh.
"""
