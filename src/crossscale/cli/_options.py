"""The options of the commands, defined once: ``Annotated`` types with their flag and help.

A command declares ``out: OutDir`` (required) or ``seed: Seed = 0``; the default stays in the
signature, where the workflow's config takes it from. Flags and help texts here are what
``crossscale COMMAND --help`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# -- shared by several commands ---------------------------------------------------------------
OutDir = Annotated[Path, typer.Option("--out", help="Output folder (written atomically).")]
Overwrite = Annotated[bool, typer.Option(help="Replace an existing --out.")]
ReplaceOut = Annotated[bool, typer.Option(help="Replace --out if it exists.")]
Seed = Annotated[int, typer.Option(help="Random seed.")]
Device = Annotated[str, typer.Option(help="'auto', 'cpu' or 'cuda'.")]
Threads = Annotated[int, typer.Option(
    help="torch CPU threads (default torch's; 1 is fastest on a busy shared machine).")]  # fmt: skip
BatchSize = Annotated[int, typer.Option(help="Windows per forward pass.")]

# -- spread -----------------------------------------------------------------------------------
Dynamics = Annotated[str, typer.Option("--model", help="fisher_kpp or diffusion.")]
SpreadGraph = Annotated[str, typer.Option(help="connectome (HCP structural) or surface.")]
NSubjects = Annotated[int, typer.Option(help="Number of subjects.")]
Subtypes = Annotated[str, typer.Option(help="Comma-separated EPICENTRE:RHO:ALPHA (rates per year).")]
Timepoints = Annotated[str, typer.Option(help="Visit times in years after the first visit.")]
Noise = Annotated[float, typer.Option(help="Gaussian noise sd (saturation = 1).")]
CohortMaps = Annotated[Path, typer.Argument(
    help="CSV of visits: columns subject, time, then the 68 regions. Omit with --adni.")]  # fmt: skip
CohortAdni = Annotated[bool, typer.Option(
    "--adni", help="Fit the ADNI2 EMCI/LMCI/AD group maps instead of a cohort (the same as "
    "`spread fit-group --adni`; never together with MAPS).")]  # fmt: skip
NSubtypes = Annotated[str, typer.Option(
    help="K, or 'auto': held-out log predictive density over 1..--max-subtypes with the "
    "one-standard-error rule.")]  # fmt: skip
MaxSubtypes = Annotated[int, typer.Option(help="Largest K tried by --n-subtypes auto.")]
SelectionRepeats = Annotated[int, typer.Option(
    help="--n-subtypes auto: independent held-out splits (seed stability).")]  # fmt: skip
Truth = Annotated[Path, typer.Option(
    help="truth.csv of a simulated cohort (only when given); adds simulated-vs-true panels "
    "to the report.")]  # fmt: skip
CohortEpochs = Annotated[int, typer.Option(help="Training epochs (EM rounds follow).")]
NRewired = Annotated[int, typer.Option(help="--adni: degree-preserving rewired null graphs (beside).")]
NLengthAdni = Annotated[int, typer.Option(
    help="--adni: degree- and edge-length-preserving rewired null graphs (headline).")]  # fmt: skip
GroupMaps = Annotated[Path, typer.Argument(
    help="CSV of group maps: one row per map with a column per region (and optional "
    "map/stage/time columns), a long table (region, value, map/stage/time), or a region "
    "column with one column per map. Any region naming crossscale understands. Omit with "
    "--adni.")]  # fmt: skip
GroupAdni = Annotated[bool, typer.Option(
    "--adni", help="Fit the 16 bundled ADNI2 EMCI/LMCI/AD volume maps (not with MAPS).")]  # fmt: skip
GroupGraph = Annotated[str, typer.Option(
    help="connectome (HCP structural), distance (Euclidean nearest neighbours), surface "
    "(fsaverage5 adjacency), or FILE.csv: your connectivity matrix (square, region names "
    "as header and first column).")]  # fmt: skip
GroupModels = Annotated[str, typer.Option(help="Comma-separated dynamics.")]
StageOrder = Annotated[str, typer.Option(
    help="Stages earliest first, e.g. 'CN,MCI,AD' (checks the order of fitted times; "
    "default: ADNI2 EMCI,LMCI,AD, or the file's order of appearance).")]  # fmt: skip
Columns = Annotated[str, typer.Option(
    help="The value column(s), comma-separated: of a long table, or the map columns "
    "of a table with regions as rows (e.g. d_icv of an ENIGMA summary table).")]  # fmt: skip
FlipSign = Annotated[bool, typer.Option(
    help="Multiply the maps by -1 (e.g. thickness differences, patients - controls): "
    "spreading models need larger = more pathology.")]  # fmt: skip
NLength = Annotated[int, typer.Option(
    help="Degree- and edge-length-preserving null graphs (the headline p).")]  # fmt: skip
NDegree = Annotated[int, typer.Option(help="Degree-preserving null graphs (p beside it).")]
NFolds = Annotated[int, typer.Option(help="Spatial blocks of the leave-regions-out CV.")]
GroupSeed = Annotated[int, typer.Option(help="Random seed (rewirings, folds).")]
Quick = Annotated[bool, typer.Option(help="A two-minute smoke run (small cohorts).")]
VaeEpochs = Annotated[int, typer.Option(help="VAE training epochs.")]
BaseSeed = Annotated[int, typer.Option(help="Base random seed.")]

# -- volume -----------------------------------------------------------------------------------
TrainOut = Annotated[Path, typer.Option("--out", help="Output folder (model/, regression/, run.json).")]
VolumePreset = Annotated[str, typer.Option(
    help="Model size: 'smoke' (CPU, minutes) or 'default' (GPU).")]  # fmt: skip
Objective = Annotated[str, typer.Option(
    help="'residual' (regression mean + diffusion on the residual), 'diffusion' (plain) or "
    "'regression'.")]  # fmt: skip
MaxIter = Annotated[int, typer.Option(help="Optimisation steps (default: the preset's).")]
TrainSteps = Annotated[int, typer.Option(help="DDIM steps used at generation.")]
BinPx = Annotated[int, typer.Option(help="Image pixels per gene bin (Tera-MIND: 16).")]
Downsample = Annotated[int, typer.Option(
    help="Image pixels per stain pixel; must divide --bin-px.")]  # fmt: skip
Holdout = Annotated[float, typer.Option(help="Rightmost fraction of the crop never trained on.")]
Regression = Annotated[bool, typer.Option(
    help="Also train a separate regression baseline (a residual model holds its own "
    "regression net).")]  # fmt: skip
VolumeModel = Annotated[Path, typer.Option(
    "--model", help="Output folder of 'crossscale volume train'.")]  # fmt: skip
GenerateOut = Annotated[Path, typer.Option(
    "--out", help="Output folder (generated.ome.zarr, run.json).")]  # fmt: skip
Size = Annotated[str, typer.Option(
    help="Canvas ROWSxCOLS in stain pixels; larger than the crop tiles the real gene field "
    "(replicated conditioning). Default: the crop.")]  # fmt: skip
Scheme = Annotated[str, typer.Option(help="'boundary', 'independent' or 'overlap'.")]
Steps = Annotated[int, typer.Option(help="DDIM steps (default: the model's).")]
NoiseSeed = Annotated[int, typer.Option(help="Seed of the position-seeded noise.")]
DaskScheduler = Annotated[str, typer.Option(
    help="Dask: 'local' or a scheduler address (default in-process).")]  # fmt: skip
ResumeOverwrite = Annotated[bool, typer.Option(
    help="Replace an existing result (a state folder is resumed).")]  # fmt: skip
EvaluateOut = Annotated[Path, typer.Option(
    "--out", help="Output folder (metrics.csv, report.html, run.json).")]  # fmt: skip
EvalSeed = Annotated[int, typer.Option(help="Noise seed.")]
MaxRows = Annotated[int, typer.Option(
    help="Only the first rows (stain px) of the held-out region.")]  # fmt: skip

# -- vulnerability ----------------------------------------------------------------------------
SubjectTable = Annotated[Path, typer.Argument(
    help="Subject x region table: ENIGMA CSV (SubjID, L_bankssts_thickavg, ...), "
    "aparcstats2table output (lh file; rh read alongside), long CSV (subject, region, "
    "value), or a FreeSurfer SUBJECTS_DIR.")]  # fmt: skip
Covariates = Annotated[Path, typer.Option(
    "--covariates", "-c", help="Covariates CSV (ENIGMA cov.csv: SubjID, Dx, Age, Sex, ICV).")]  # fmt: skip
Case = Annotated[str, typer.Option("--case", help="Diagnosis label of the cases (e.g. AD, or 1).")]
Control = Annotated[str, typer.Option("--control", help="Diagnosis label of the controls (CN, 0).")]
MapOut = Annotated[Path, typer.Option("--out", "-o", help="Output CSV of the map (e.g. d.csv).")]
GroupColumn = Annotated[str, typer.Option(
    "--group-column", help="Diagnosis column of COV (default: Dx/diagnosis/group).")]  # fmt: skip
Adjust = Annotated[str, typer.Option(
    "--adjust", help="Comma-separated covariate columns, or 'none' (default, ENIGMA protocol: "
    "Age, Sex; plus ICV for area and volume).")]  # fmt: skip
SiteColumn = Annotated[str, typer.Option(
    "--site-column", help="Site column of COV (default: a column named Site, if any).")]  # fmt: skip
Harmonize = Annotated[str, typer.Option(
    "--harmonize", help="With several sites: combat | covariate | none.")]  # fmt: skip
Measure = Annotated[str, typer.Option(
    "--measure", help="For a SUBJECTS_DIR: thickness | area | volume.")]  # fmt: skip
Bootstrap = Annotated[int, typer.Option(
    "--bootstrap", help="Stratified bootstrap replicates for extra CIs (0 = none).")]  # fmt: skip
VulnSeed = Annotated[int, typer.Option("--seed", help="Random seed (bootstrap, ComBat).")]
Alpha = Annotated[float, typer.Option("--alpha", help="1 - confidence level of the CIs.")]
HtmlPath = Annotated[Path, typer.Option(
    "--html", help="HTML page with the map on the brain (default: OUT with .html).")]  # fmt: skip
ReplaceOutputs = Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs.")]
VulnAtlas = Annotated[str, typer.Option(
    "--atlas", help="Parcellation of the subject tables: only 'dk' (ENIGMA and FreeSurfer aparc "
    "tables are Desikan-Killiany).")]  # fmt: skip
