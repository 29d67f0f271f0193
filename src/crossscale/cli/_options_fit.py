"""The options of ``crossscale fit`` and ``crossscale benchmark``, defined once (``Annotated``).

fit's are grouped in help panels of ``crossscale fit --help``, benchmark's (``B*``) are not; the
command gives the default in its signature (``seed: Seed = 0``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any

import typer

_DATA, _MODEL, _EVAL, _NULLS, _OUT = "Map and data", "Model", "Evaluation", "Null refits", "Output"


def _o(kind: Any, panel: str | None, *decls: str, help: str, **kw: Any) -> Any:  # noqa: A002
    """An option of `kind` in help panel `panel` (flags default to the parameter's name)."""
    return Annotated[kind, typer.Option(*decls, help=help, rich_help_panel=panel, **kw)]


def _no_panel(option: Any) -> Any:
    """The same option (flags, help) outside any help panel: benchmark's twin of a fit option."""
    info = copy.copy(option.__metadata__[0])
    info.rich_help_panel = None
    return Annotated[option.__origin__, info]


# -- map and data -----------------------------------------------------------------------------
MapFile = _o(Path, _DATA, "--map", help="CSV: a region column (names of --atlas) and a value "
    "column; or 'bigbrain'. Default: ADNI2 AD atrophy.")
Atlas = _o(str, _DATA, "--atlas", help="dk, dk-subcortex, schaefer100-400, glasser360, or "
    "'lh.x.annot,rh.x.annot' (with --expression). See 'crossscale data atlases'.")
Expression = _o(Path, _DATA, "--expression", help="Your region x gene CSV (e.g. abagen's "
    "get_expression_data). Default: the atlas's built-in AHBA matrix.")
GenePanel = _o(str, _DATA, "--gene-panel", help="Built-in genes: 'auto' (L1000 on dk, "
    "differential stability >= 0.6 elsewhere), 'l1000' or 'stable'.")
Group = _o(str, _DATA, help="ADNI2 group of the default map (AD, LMCI, EMCI).")
Timepoint = _o(str, _DATA, help="ADNI2 timepoint of the default map (baseline, 2-6).")
ValueColumn = _o(str, _DATA, help="Column of --map holding the values (default: guessed).")
RegionColumn = _o(str, _DATA, help="Column of --map holding region names (default: guessed).")
# -- output -----------------------------------------------------------------------------------
Out = _o(Path, _OUT, "--out", "-o", help="Output folder (written atomically).")
Overwrite = _o(bool, _OUT, "--overwrite", help="Replace --out if it exists.")
# -- model ------------------------------------------------------------------------------------
Graph = _o(str, _MODEL, "--graph", help="Region graph: 'surface' (fsaverage5 adjacency) or "
    "'connectome' (HCP structural weights).")
Model = _o(str, _MODEL, "--model", help="Registered regional model "
    "(crossscale.models.registry; default graphvae).")
Param = _o(list[str], _MODEL, "--param", metavar="KEY=VALUE", help="A model parameter "
    "(repeatable), e.g. --param n_latent=4 --param smoothness=0.5.")
Preset = _o(str, _MODEL, help="Parameter preset of --model (GraphVAE: 'default', chosen out of "
    "sample, or 'reference'); --param overrides it.")
MaxEpochs = _o(int, _MODEL, help="Same as --param max_epochs=N.")
Ensemble = _o(int, _MODEL, "--ensemble", help="Same as --param n_ensemble=N (GraphVAE "
    "seed-ensemble members, trained as one stack).")
Seed = _o(int, _MODEL, help="Random seed of every stochastic step.")
Device = _o(str, _MODEL, help="'auto' (CUDA when present), 'cpu' or 'cuda'.")
# -- evaluation -------------------------------------------------------------------------------
Protocol = _o(str, _EVAL, help="'inductive' (preprocessing learned on each fold's training "
    "regions) or 'transductive'.")
Cv = _o(str, _EVAL, help="Cross-validation schemes: loro, spatial, or both.")
Baselines = _o(bool, _EVAL, help="Fit the PLS, ridge and spatial-only baselines.")
Interpret = _o(bool, _EVAL, help="Gene attributions, programs, region clusters, cell-type "
    "enrichment (spatial nulls).")
InterpretNPerm = _o(int, _EVAL, help="Spin refits of the enrichment null (with --interpret).")
# -- null refits ------------------------------------------------------------------------------
Nulls = _o(str, _NULLS, "--nulls", help="Refit the model, PLS-1 and ridge on null maps: 'spin' "
    "(Hungarian), 'moran' or 'none'.")
NPerm = _o(int, _NULLS, "--n-perm", help="Number of null maps (with --nulls).")
NullCv = _o(str, _NULLS, "--null-cv", help="CV of each null refit: k spatial blocks, 'spatial' "
    "(slow), 'loro' or 'none'.")
Scheduler = _o(str, _NULLS, "--scheduler", help="Dask: 'local' or tcp://host:port (needs "
    "crossscale\\[dask]).")
BatchSize = _o(int, _NULLS, "--batch-size", help="Null maps per stacked GraphVAE program / Dask "
    "task.")
# -- benchmark (one panel) ----------------------------------------------------------------------
BMaps = _o(str, None, "--maps", help="Comma list: ad, lmci, emci (ADNI2 baseline), "
    "enigma-thickness (33 ENIGMA case-control maps), or registry keys.")
BOut = _no_panel(Out)
BOverwrite = _o(bool, None, help="Replace --out if it exists.")
BNPerm = _o(int, None, "--n-perm", help="Spin null maps per map for p_spin (0: no null refits).")
BNullCv = _o(str, None, "--null-cv", help="CV of p_spin: k contiguous spatial blocks (k-means of "
    "centroids), or 'spatial' (distance-blocked, one fold per region: slow).")
BScheduler = _no_panel(Scheduler)
BBatchSize = _no_panel(BatchSize)
BNullModels = _o(str, None, "--null-models", help="Models refitted on the spin nulls: 'all', or "
    "a comma list such as 'GraphVAE,PLS-4'.")
BModel = _o(str, None, "--model", help="Registered regional model (default graphvae).")
BParam = _o(list[str], None, "--param", metavar="KEY=VALUE", help="A model parameter "
    "(repeatable), e.g. --param n_latent=4.")
BPreset = _o(str, None, help="Parameter preset of --model (see crossscale fit).")
BMaxEpochs = _no_panel(MaxEpochs)
BEnsemble = _o(int, None, "--ensemble", help="Same as --param n_ensemble=N.")
BAtlas = _o(str, None, "--atlas", help="Parcellation: dk (default), dk-subcortex, "
    "schaefer100-400, glasser360; other than dk, --maps bigbrain.")
BGenePanel = _o(str, None, "--gene-panel", help="Built-in expression genes: auto, l1000 (dk "
    "only) or stable.")
BSeed = _no_panel(Seed)
BDevice = _no_panel(Device)
