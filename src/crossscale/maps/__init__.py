"""Regional maps: readers, the ADNI2 atrophy maps, ENIGMA summary statistics."""

from crossscale.maps.adni import GROUPS, load_adni_map
from crossscale.maps.io import load_enigma_map, read_regional_map

__all__ = ["GROUPS", "load_adni_map", "load_enigma_map", "read_regional_map"]
