"""crossscale.cli."""
