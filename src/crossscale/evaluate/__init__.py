"""crossscale.evaluate."""
