"""Building and driving sessions: a local paper session, an Alpaca one, and the runner that
says how many cycles, how fast, and how a session stops.
"""
