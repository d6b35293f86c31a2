"""Performance reports: figures from the audit database, for the terminal, the desk and HTML.

``metrics`` computes (pure Python, no I/O), ``load`` reads a session's rows into its inputs,
``terminal`` draws the figures with rich, ``html`` writes a self-contained page with plotly.
"""
