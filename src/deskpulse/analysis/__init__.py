"""What the pages ask for, built from the metrics layer: leaderboard, load balancing,
one-on-ones, the conversations behind a number and a conversation's timeline.

Nothing here computes a metric of its own: every number comes from `metrics.query`,
and this layer only arranges, compares and explains them. It never imports Django.
"""
