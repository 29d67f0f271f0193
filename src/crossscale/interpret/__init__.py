"""crossscale.interpret."""
