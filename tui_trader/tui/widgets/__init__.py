"""Small widgets the screens share: the desk bar, gauges, money figures."""
