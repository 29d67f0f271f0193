"""Gene-conditioned diffusion of brain tissue morphology (Tera-MIND style) and patch generation.

``module.py`` holds the maths (gene-gene attention, gene feature pyramid, anisotropic 3D UNet),
``estimator.py`` the user API (:class:`VolumeDiffusion`: parameters and training; ``fitted.py`` its
sampler, inference and checkpoint methods), ``mean.py`` the regression mean over canvases,
``generate.py`` the step-major, resumable, boundary-aware patch generation to OME-Zarr. torch and
MONAI load on first use.
"""

from crossscale.models.volume.estimator import PRESETS, VolumeDiffusion
from crossscale.models.volume.fitted import holdout_start
from crossscale.models.volume.generate import SCHEMES, GenerationResult, generate
from crossscale.models.volume.layout import position_noise
from crossscale.models.volume.mean import predict_canvas
from crossscale.models.volume.state import GenerationStateError, StorageError

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
