"""The trading session: one decision cycle at a time (signals, blend, risk, orders, fills,
audit), the same for every broker and data source. Pure: no front end, no SDK.
"""
