"""How many periodic backups a session keeps unless told otherwise.

Every backup is a whole copy of a database that grows (README "How big the database gets"):
keeping every one, the default before, filled disks with hourly copies. The newest 24 (a day of
hourly backups) are kept by default; ``--backup-keep all`` (or 0, as before) keeps every one.
Its own module so that the option parsers and the setup screen read it without importing the
backup machinery.
"""

from __future__ import annotations

DEFAULT_BACKUP_KEEP = 24
"""Periodic backups kept unless told otherwise: a day of hourly ones."""
