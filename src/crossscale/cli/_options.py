"""The options of the commands, defined once: ``Annotated`` types with their flags and help.

A command declares ``out: OutDir`` (required) or ``seed: Seed = 0`` (the default in its signature).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def _o(kind: type, *decls: str, help: str, argument: bool = False) -> Any:  # noqa: A002
    """An option (flags default to the parameter's name) or, with `argument`, an argument."""
    made = typer.Argument(help=help) if argument else typer.Option(*decls, help=help)
    return Annotated[kind, made]


# -- shared by several commands ---------------------------------------------------------------
OutDir = _o(Path, "--out", help="Output folder (written atomically).")
Overwrite = _o(bool, help="Replace an existing --out.")
ReplaceOut = _o(bool, help="Replace --out if it exists.")
Seed = _o(int, help="Random seed.")
Device = _o(str, help="'auto', 'cpu' or 'cuda'.")
Threads = _o(int, help="torch CPU threads (default torch's; 1 is fastest on a busy shared "
    "machine).")
BatchSize = _o(int, help="Windows per forward pass.")
# -- spread -----------------------------------------------------------------------------------
Dynamics = _o(str, "--model", help="fisher_kpp or diffusion.")
SpreadGraph = _o(str, help="connectome (HCP structural) or surface.")
NSubjects = _o(int, help="Number of subjects.")
Subtypes = _o(str, help="Comma-separated EPICENTRE:RHO:ALPHA (rates per year).")
Timepoints = _o(str, help="Visit times in years after the first visit.")
Noise = _o(float, help="Gaussian noise sd (saturation = 1).")
CohortMaps = _o(Path, argument=True, help="CSV of visits: columns subject, time, then the 68 regions. Omit with "
    "--adni.")
CohortAdni = _o(bool, "--adni", help="Fit the ADNI2 EMCI/LMCI/AD group maps instead of a cohort "
    "(the same as `spread fit-group --adni`; never together with MAPS).")
NSubtypes = _o(str, help="K, or 'auto': held-out log predictive density over 1..--max-subtypes "
    "with the one-standard-error rule.")
MaxSubtypes = _o(int, help="Largest K tried by --n-subtypes auto.")
SelectionRepeats = _o(int, help="--n-subtypes auto: independent held-out splits (seed stability).")
Truth = _o(Path, help="truth.csv of a simulated cohort (only when given); adds simulated-vs-true "
    "panels to the report.")
CohortEpochs = _o(int, help="Training epochs (EM rounds follow).")
NRewired = _o(int, help="--adni: degree-preserving rewired null graphs (beside).")
NLengthAdni = _o(int, help="--adni: degree- and edge-length-preserving rewired null graphs "
    "(headline).")
GroupMaps = _o(Path, argument=True, help="CSV of group maps: one row per map with a column per region (and "
    "optional map/stage/time columns), a long table (region, value, map/stage/time), or a region "
    "column with one column per map. Any region naming crossscale understands. Omit with --adni.")
GroupAdni = _o(bool, "--adni", help="Fit the 16 bundled ADNI2 EMCI/LMCI/AD volume maps (not with "
    "MAPS).")
GroupGraph = _o(str, help="connectome (HCP structural), distance (Euclidean nearest neighbours), "
    "surface (fsaverage5 adjacency), or FILE.csv: your connectivity matrix (square, region names "
    "as header and first column).")
GroupModels = _o(str, help="Comma-separated dynamics.")
StageOrder = _o(str, help="Stages earliest first, e.g. 'CN,MCI,AD' (checks the order of fitted "
    "times; default: ADNI2 EMCI,LMCI,AD, or the file's order of appearance).")
Columns = _o(str, help="The value column(s), comma-separated: of a long table, or the map columns "
    "of a table with regions as rows (e.g. d_icv of an ENIGMA summary table).")
FlipSign = _o(bool, help="Multiply the maps by -1 (e.g. thickness differences, patients - "
    "controls): spreading models need larger = more pathology.")
NLength = _o(int, help="Degree- and edge-length-preserving null graphs (the headline p).")
NDegree = _o(int, help="Degree-preserving null graphs (p beside it).")
NFolds = _o(int, help="Spatial blocks of the leave-regions-out CV.")
GroupSeed = _o(int, help="Random seed (rewirings, folds).")
Quick = _o(bool, help="A two-minute smoke run (small cohorts).")
VaeEpochs = _o(int, help="VAE training epochs.")
BaseSeed = _o(int, help="Base random seed.")
# -- volume -----------------------------------------------------------------------------------
TrainOut = _o(Path, "--out", help="Output folder (model/, regression/, run.json).")
VolumePreset = _o(str, help="Model size: 'smoke' (CPU, minutes) or 'default' (GPU).")
Objective = _o(str, help="'residual' (regression mean + diffusion on the residual), 'diffusion' "
    "(plain) or 'regression'.")
MaxIter = _o(int, help="Optimisation steps (default: the preset's).")
TrainSteps = _o(int, help="DDIM steps used at generation (default: the model's).")
BinPx = _o(int, help="Image pixels per gene bin (Tera-MIND: 16).")
Downsample = _o(int, help="Image pixels per stain pixel; must divide --bin-px.")
Holdout = _o(float, help="Rightmost fraction of the crop never trained on.")
Regression = _o(bool, help="Also train a separate regression baseline (a residual model holds its "
    "own regression net).")
VolumeModel = _o(Path, "--model", help="Output folder of 'crossscale volume train'.")
GenerateOut = _o(Path, "--out", help="Output folder (generated.ome.zarr, run.json).")
Size = _o(str, help="Canvas ROWSxCOLS in stain pixels; larger than the crop tiles the real gene "
    "field (replicated conditioning). Default: the crop.")
Scheme = _o(str, help="'boundary', 'independent' or 'overlap'.")
Steps = _o(int, help="DDIM steps (default: the model's).")
NoiseSeed = _o(int, help="Seed of the position-seeded noise.")
DaskScheduler = _o(str, help="Dask: 'local' or a scheduler address (default in-process).")
ResumeOverwrite = _o(bool, help="Replace an existing result (a state folder is resumed).")
EvaluateOut = _o(Path, "--out", help="Output folder (metrics.csv, report.html, run.json).")
EvalSeed = _o(int, help="Noise seed.")
MaxRows = _o(int, help="Only the first rows (stain px) of the held-out region.")
# -- vulnerability ----------------------------------------------------------------------------
SubjectTable = _o(Path, argument=True, help="Subject x region table: ENIGMA CSV (SubjID, L_bankssts_thickavg, "
    "...), aparcstats2table output (lh file; rh read alongside), long CSV (subject, region, "
    "value), or a FreeSurfer SUBJECTS_DIR.")
Covariates = _o(Path, "--covariates", "-c", help="Covariates CSV (ENIGMA cov.csv: SubjID, Dx, Age, "
    "Sex, ICV).")
Case = _o(str, "--case", help="Diagnosis label of the cases (e.g. AD, or 1).")
Control = _o(str, "--control", help="Diagnosis label of the controls (CN, 0).")
MapOut = _o(Path, "--out", "-o", help="Output CSV of the map (e.g. d.csv).")
GroupColumn = _o(str, "--group-column", help="Diagnosis column of COV (default: "
    "Dx/diagnosis/group).")
Adjust = _o(str, "--adjust", help="Comma-separated covariate columns, or 'none' (default, ENIGMA "
    "protocol: Age, Sex; plus ICV for area and volume).")
SiteColumn = _o(str, "--site-column", help="Site column of COV (default: a column named Site, if "
    "any).")
Harmonize = _o(str, "--harmonize", help="With several sites: combat | covariate | none.")
Measure = _o(str, "--measure", help="For a SUBJECTS_DIR: thickness | area | volume.")
Bootstrap = _o(int, "--bootstrap", help="Stratified bootstrap replicates for extra CIs (0 = none).")
VulnSeed = _o(int, "--seed", help="Random seed (bootstrap, ComBat).")
Alpha = _o(float, "--alpha", help="1 - confidence level of the CIs.")
HtmlPath = _o(Path, "--html", help="HTML page with the map on the brain (default: OUT with .html).")
ReplaceOutputs = _o(bool, "--overwrite", help="Replace existing outputs.")
VulnAtlas = _o(str, "--atlas", help="Parcellation of the subject tables: only 'dk' (ENIGMA and "
    "FreeSurfer aparc tables are Desikan-Killiany).")
