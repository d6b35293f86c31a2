"""The reliability suite: kill -9 at random moments, every sandbox fault switch, two sessions on
one account and on one database, each checked order by order against the broker (issue 12)."""
