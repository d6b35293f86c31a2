"""The Textual front end: setup, dashboard, history and the live-session monitor.

Nothing in the trading core imports this package; it only drives sessions through their public
thread-safe methods and reads the audit database.
"""
