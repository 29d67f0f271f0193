"""Checkpoints of ``SpreadMixtureVAE``: ``model.safetensors`` + ``config.json`` via the shared mixin.

Files written before the shared checkpoint format (config key ``"class"`` instead of ``"model"``)
load the same way (:func:`crossscale.train.checkpoint.load_checkpoint`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import RegionMismatchError
from crossscale.train.checkpoint import CheckpointMixin


class SpreadCheckpoint(CheckpointMixin):
    """``save(path)`` / ``load(path, graph=None)`` and the fitted summary of ``SpreadMixtureVAE``."""

    checkpoint_name = "SpreadMixtureVAE"

    def json_params(self) -> dict[str, Any]:
        """The constructor parameters, JSON-safe (for ``config.json`` and ``run.json``).

        Sequences become lists; a ``numpy.random.Generator`` random_state becomes None (the
        seed the fit drew is :attr:`seed_`).
        """
        out = self.get_params()
        for k in ("prior_loc", "prior_scale"):
            out[k] = None if out[k] is None else [float(v) for v in out[k]]
        if not (out["random_state"] is None or isinstance(out["random_state"], (int, np.integer))):
            out["random_state"] = None
        return out

    def _set_summary(self, scores) -> None:
        import torch

        m = self.module_
        proba = torch.softmax(scores - scores.max(1, keepdim=True).values, 1).numpy()
        names = [f"subtype_{k}" for k in range(self.n_subtypes)]
        self.epicentre_proba_ = pd.DataFrame(proba, index=pd.Index(names, name="subtype"),
                                             columns=self.regions_)  # fmt: skip
        self.epicentres_ = [str(self.regions_[i]) for i in m.seeds.tolist()]
        med = m.prior_mean().detach().exp().numpy()
        sp = pd.DataFrame(med, index=self.epicentre_proba_.index, columns=list(m.names))
        sp["weight"] = torch.softmax(m.logit_pi.detach(), 0).numpy()
        sp["epicentre"] = self.epicentres_
        self.subtype_params_ = sp
        self.noise_ = float(m.log_sigma.detach().exp())

    def _checkpoint_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        state = {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}
        return state, {
            "params": self.json_params(), "regions": list(self.regions_),
            "graph_hash": self.graph_hash_, "graph_kind": self.graph_kind_,
            "epicentres": self.epicentres_,
            "epicentre_proba": self.epicentre_proba_.to_numpy().tolist(),
            "fit_time_s": self.fit_time_s_, "seed": int(self.seed_),
        }  # fmt: skip

    @classmethod
    def _from_checkpoint(cls, tensors, config, *, path, graph=None) -> Any:
        """Rebuild a fitted model; `graph`, if given, must have the checkpoint's regions.

        Raises
        ------
        RegionMismatchError
            `graph` has a different region set or order from the checkpoint.
        """
        import torch

        from crossscale.models.spread.module import SpreadMixtureModule

        regions = list(config["regions"])
        if graph is not None and list(graph.regions) != regions:
            diff = sorted(set(graph.regions) ^ set(regions))
            raise RegionMismatchError(
                f"The checkpoint was fitted on {len(regions)} regions but the graph has "
                f"{graph.n_regions}; differing regions: {diff[:6]}. Use the checkpoint's region "
                "set (graph.subgraph(regions)) or refit."
            )
        params = config["params"]
        est = cls(**params)
        state = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}
        module = SpreadMixtureModule(
            state["laplacian"], int(params["n_subtypes"]), model=params["model"],
            prior_loc=tuple(state["prior_loc"][0].tolist()),
            prior_scale=tuple(state["prior_scale"].tolist()), n_hidden=int(params["n_hidden"]),
            seed_mass=float(params["seed_mass"]), production=state["production"],
        )  # fmt: skip
        module.load_state_dict(state)
        est.module_ = module.eval()
        est.regions_ = pd.Index(regions, name="region")
        est.graph_hash_, est.graph_kind_ = config["graph_hash"], config["graph_kind"]
        est.fit_time_s_ = config.get("fit_time_s", float("nan"))
        est.seed_ = int(config.get("seed", 0))
        est._set_summary(torch.log(torch.as_tensor(config["epicentre_proba"]).clamp_min(1e-30)))
        return est
