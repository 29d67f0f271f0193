"""Graph-regularised variational autoencoder (module.py: maths; estimator.py: user API)."""

from crossscale.models.graphvae.estimator import GraphVAE

__all__ = ["GraphVAE"]
