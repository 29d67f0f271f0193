"""Dataset registry, fetch with checksum and cache, mirror for offline machines."""

from crossscale.datasets.fetch import (
    DatasetInfo,
    checksums,
    data_home,
    dataset_info,
    fetch,
    registry,
)

__all__ = ["DatasetInfo", "checksums", "data_home", "dataset_info", "fetch", "registry"]
