"""crossscale.train."""
