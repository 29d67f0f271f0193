"""Batched fits of GraphVAE: one model per fold and map, or per map (no user API; see ``estimator.py``)."""

from __future__ import annotations

import time
from typing import Self

import numpy as np
import pandas as pd
from sklearn.base import clone

from crossscale._errors import ParameterError
from crossscale.atlas.graph import RegionGraph
from crossscale.models._validation import align
from crossscale.models.graphvae._params import _align_maps, _seed
from crossscale.models.graphvae._shrink import kriged_rows


class BatchFits:
    """:meth:`fit_predict_folds` and :meth:`fit_many` of :class:`GraphVAE` (a mixin)."""

    def fit_predict_folds(
        self,
        X: pd.DataFrame,
        y: pd.Series | pd.DataFrame,
        graph: RegionGraph,
        test_masks: np.ndarray,
        *,
        protocol: str = "inductive",
    ) -> np.ndarray:
        """Fit one model per fold (and map) as a single batched tensor program; predict all regions.

        Parameters
        ----------
        X, graph
            As in :meth:`fit`.
        y : pandas.Series, shape (n_regions,), or pandas.DataFrame, shape (n_regions, n_maps)
            The map, or one map per column (one model per map and fold).
        test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
            Regions held out in each fold: their map values are never seen by that fold's model.
        protocol : {"inductive", "transductive"}, default "inductive"
            Inductive: gene standardisation, principal axes, graph propagation and penalties use
            the fold's training regions only (a held-out region enters only through its own
            input row). Transductive: the expression of every region is known (targets of
            held-out regions are still hidden).

        Returns
        -------
        predictions : numpy.ndarray, shape (n_maps, n_folds, n_regions)
            Every region's prediction by each fold's model, in the units of `y`; n_maps = 1 for a
            Series. With ``n_ensemble > 1`` each prediction is the members' mean.
        """
        self.check_params()
        test_masks = np.asarray(test_masks, dtype=bool)
        if isinstance(y, pd.DataFrame):
            Xa, _ = align(X, None, graph)
            Ya = _align_maps(y, graph).to_numpy().T  # (n_maps, n_regions)
        else:
            Xa, ya = align(X, y, graph)
            Ya = ya.to_numpy()[None]
        n_maps, n_folds = Ya.shape[0], len(test_masks)
        targets = np.repeat(Ya, n_folds, axis=0)
        train = np.tile(~test_masks, (n_maps, 1))
        *_, pred, _, _ = self._fit_stack(
            Xa.to_numpy(dtype=float), targets, train, graph, protocol=protocol,
            seed=_seed(self.random_state), description=f"GraphVAE, {len(train)} models",
        )  # fmt: skip
        krige = kriged_rows(self, len(pred))
        if krige.any():
            from crossscale.models._spatial import harmonic_interpolation

            resid = harmonic_interpolation(graph.laplacian().toarray(), targets - pred, ~train)
            pred = pred + np.where(train | ~krige[:, None], 0.0, resid)
        return pred.reshape(n_maps, n_folds, -1)

    def fit_many(
        self,
        X: pd.DataFrame,
        Y: pd.DataFrame,
        graph: RegionGraph,
        *,
        train_masks: np.ndarray | None = None,
    ) -> list[Self]:
        """Fit one model per column of `Y` as a single batched tensor program.

        For null refits (one model per spun map), seeds or replicates. Each returned model is a
        fitted ``GraphVAE`` (predict, transform, save) with the parameters of this one; all share
        the seed stream of ``random_state`` and the projection learned from all regions of `X`.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_regions, n_genes)
            Regional expression, index ``region``, columns ``gene_symbol``.
        Y : pandas.DataFrame, shape (n_regions, n_maps)
            One target map per column, index regions.
        graph : RegionGraph
            Region graph over the regions of `X`.
        train_masks : numpy.ndarray of bool, shape (n_maps, n_regions), optional
            Regions whose map value each model sees (default all).

        Returns
        -------
        models : list of GraphVAE, length n_maps
        """
        self.check_params()
        Xa, _ = align(X, None, graph)
        Ya = _align_maps(Y, graph)
        n_maps = Ya.shape[1]
        masks = (np.ones((n_maps, graph.n_regions), dtype=bool) if train_masks is None
                 else np.asarray(train_masks, dtype=bool))  # fmt: skip
        if masks.shape != (n_maps, graph.n_regions):
            raise ParameterError(
                f"train_masks must have shape (n_maps, n_regions) = {(n_maps, graph.n_regions)}; "
                f"got {masks.shape}."
            )
        t0 = time.perf_counter()
        seed = _seed(self.random_state)
        params, hist, ym, ys, _, projs, _ = self._fit_stack(
            Xa.to_numpy(dtype=float), Ya.to_numpy().T, masks, graph, protocol="transductive",
            seed=seed, description=f"GraphVAE, {n_maps} maps",
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
        e = int(self.n_ensemble)
        models = []
        for i, col in enumerate(Ya.columns):
            m = clone(self)._set_fitted(
                seed=seed, graph=graph, genes=Xa.columns, projection=projs[i] if len(projs) > 1 else projs[0],
                params={n: v[i * e:(i + 1) * e] for n, v in params.items()},
                y_mean=ym[i * e], y_scale=ys[i * e], y_name=str(col), history=hist,
                n_epochs=int(hist.best_epoch[i * e]), fit_time=elapsed / n_maps,
            )  # fmt: skip
            m.train_mask_ = masks[i]
            m._set_blend(self._last_blend, i)
            m._set_program_rotation(Xa)
            models.append(m)
        return models


