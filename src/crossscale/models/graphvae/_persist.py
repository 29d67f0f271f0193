"""Checkpoints of a fitted GraphVAE: ``model.safetensors`` + ``config.json`` (no pickle).

A mixin of :class:`~crossscale.models.graphvae.estimator.GraphVAE`; ``save(path)`` and
``load(path, graph=None)`` come from :class:`~crossscale.train.checkpoint.CheckpointMixin`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ModelStateError
from crossscale.atlas.graph import RegionGraph
from crossscale.models.graphvae._projection import Projection
from crossscale.train.checkpoint import CheckpointMixin


class GraphVAECheckpoint(CheckpointMixin):
    """The two checkpoint hooks of GraphVAE."""

    # --------------------------------------------------------------------------
    # save(path) and load(path, graph=None) come from CheckpointMixin (crossscale.train.checkpoint)
    def _checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and config of ``save(path)``: ``model.safetensors`` + ``config.json`` (no pickle)."""
        p = self.projection_
        tensors = {f"param.{k}": v for k, v in self.params_.items()}
        tensors |= {"gene_mean": p.mean, "gene_scale": p.scale, "basis": p.basis,
                    "graph_edges": self.graph_.edges, "graph_weights": self.graph_.edge_weights,
                    "graph_coords": self.graph_.coords.to_numpy(), "graph_sphere": self.graph_.sphere_coords.to_numpy()}  # fmt: skip
        if getattr(self, "program_rotation_", None) is not None:
            tensors |= {"program_center": self.program_center_,
                        "program_rotation": self.program_rotation_}  # fmt: skip
        if getattr(self, "blend_", None) is not None:
            tensors |= {f"blend.{k}": np.atleast_1d(v) for k, v in self.blend_.items()}
        config = {
            "params": self.get_params(),
            "seed": self.seed_,
            "regions": list(self.regions_),
            "genes": list(self.genes_),
            "graph_hash": self.graph_.hash(),
            "graph_kind": self.graph_.kind,
            "y_mean": self.y_mean_,
            "y_scale": self.y_scale_,
            "y_name": self.y_name_,
            "n_epochs": self.n_epochs_,
        }
        return tensors, config

    @classmethod
    def _from_checkpoint(cls, tensors: dict[str, np.ndarray], config: dict[str, Any], *,
                         path: Path, graph: RegionGraph | None = None) -> Any:  # fmt: skip
        """Rebuild a model saved with :meth:`save` (``load(path, graph=None)``).

        Parameters
        ----------
        path : path-like
            The checkpoint folder.
        graph : RegionGraph or None
            If given, must be the graph the model was fitted on (same hash).
        tensors : dict of str to numpy.ndarray
            The arrays of ``model.safetensors``.
        config : dict
            The metadata of ``config.json`` (parameters, regions, genes, graph hash).

        Raises
        ------
        ModelStateError
            Not a GraphVAE checkpoint of this version, or a different graph.
        """
        import scipy.sparse as sp

        known = set(cls().get_params())
        unknown = sorted(set(config["params"]) - known)
        if unknown or "param.d_out" not in tensors:
            raise ModelStateError(
                f"'{path}' was written by crossscale {config.get('crossscale_version')} with a "
                f"different GraphVAE layout (parameters {unknown or 'of the old decoder'}); refit "
                "the model with this version."
            )
        params = dict(config["params"])
        if isinstance(params.get("blend_weights"), list):  # JSON has no tuples
            params["blend_weights"] = tuple(params["blend_weights"])
        model = cls(**params)
        regions = pd.Index(config["regions"], name="region")
        n = len(regions)
        e, w = tensors["graph_edges"], tensors["graph_weights"]
        adj = sp.coo_matrix(
            (np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n)
        )
        stored = RegionGraph(
            regions, adj, tensors["graph_coords"], tensors["graph_sphere"], kind=config["graph_kind"]
        )
        if graph is not None and graph.hash() != config["graph_hash"]:
            raise ModelStateError(
                f"The graph passed ({graph}) differs from the one the model at '{path}' was fitted on "
                f"({config['graph_kind']}, hash {config['graph_hash'][:12]}). Pass the same graph or none."
            )
        model = model._set_fitted(
            seed=config["seed"], graph=stored, genes=pd.Index(config["genes"]),
            projection=Projection(tensors["gene_mean"], tensors["gene_scale"], tensors["basis"]),
            params={k.removeprefix("param."): v for k, v in tensors.items() if k.startswith("param.")},
            y_mean=config["y_mean"], y_scale=config["y_scale"], y_name=config["y_name"],
            history=None, n_epochs=config["n_epochs"], fit_time=float("nan"),
        )  # fmt: skip
        if "blend.weights" in tensors:
            model.blend_ = {k.removeprefix("blend."): (v if k == "blend.weights" or k == "blend.ridge_coef"
                                                        else v.reshape(()))
                            for k, v in tensors.items() if k.startswith("blend.")}  # fmt: skip
        if "program_rotation" in tensors:
            model.program_center_ = tensors["program_center"]
            model.program_rotation_ = tensors["program_rotation"]
        return model
