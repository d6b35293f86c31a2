"""The risk gate every order passes, and how one session's risk changes merge into the
account's shared state. Pure: no I/O, no front end, no SDK.
"""
