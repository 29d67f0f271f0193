"""Regional maps: readers, the ADNI2 atrophy maps, ENIGMA summary statistics, effect sizes."""

from crossscale.maps.adni import (
    ADNI_GROUPS,
    ADNI_TIMEPOINTS,
    GROUPS,
    load_adni_map,
    load_adni_trajectory,
)
from crossscale.maps.effects import regional_effect_sizes, simulate_case_control
from crossscale.maps.io import load_bigbrain_map, load_enigma_map, read_regional_map
from crossscale.maps.readers import (
    AparcStats,
    read_aparc_stats,
    read_aparcstats2table,
    read_covariates,
    read_enigma_table,
    read_freesurfer_subjects,
    read_long_table,
    read_subject_table,
)

__all__ = [
    "ADNI_GROUPS",
    "ADNI_TIMEPOINTS",
    "GROUPS",
    "AparcStats",
    "load_adni_map",
    "load_adni_trajectory",
    "load_bigbrain_map",
    "load_enigma_map",
    "read_aparc_stats",
    "read_aparcstats2table",
    "read_covariates",
    "read_enigma_table",
    "read_freesurfer_subjects",
    "read_long_table",
    "read_regional_map",
    "read_subject_table",
    "regional_effect_sizes",
    "simulate_case_control",
]
