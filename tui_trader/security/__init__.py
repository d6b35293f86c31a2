"""Keeping secrets and records private: redaction of everything rendered, owner-only files."""
