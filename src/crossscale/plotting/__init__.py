"""crossscale.plotting."""
