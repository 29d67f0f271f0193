"""crossscale.report."""
