"""Gene-conditioned diffusion of brain tissue morphology (Tera-MIND style) and patch generation.

``module.py`` holds the maths (gene-gene attention, gene feature pyramid, anisotropic 3D UNet),
``estimator.py`` the user API (:class:`VolumeDiffusion`: parameters and training; ``fitted.py`` its
sampler, inference and checkpoint methods), ``mean.py`` the regression mean over canvases,
``generate.py`` the step-major, resumable, boundary-aware patch generation to OME-Zarr. torch and
MONAI load on first use.
"""

from crossscale.models.volume.estimator import PRESETS, VolumeDiffusion, holdout_start
from crossscale.models.volume.generate import (
    SCHEMES,
    GenerationResult,
    GenerationStateError,
    StorageError,
    generate,
    position_noise,
    predict_canvas,
)

__all__ = [
    "PRESETS",
    "SCHEMES",
    "GenerationResult",
    "GenerationStateError",
    "StorageError",
    "VolumeDiffusion",
    "generate",
    "holdout_start",
    "position_noise",
    "predict_canvas",
]
