"""Operations around a session: alerts, backups, the paper-to-live gate, the config file.

Nothing here is part of the trading core: the engine only calls a plain callback
(``TradingSession.notify``), and this package turns it into deliveries, files and verdicts.
"""
