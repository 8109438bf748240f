"""The dynamic partition set: one partition per video, keyed by the video id."""

import warnings

import dagster as dg

VIDEOS = "videos"
videos_partitions = dg.DynamicPartitionsDefinition(name=VIDEOS)


def video_check_spec(name: str, asset: str, description: str) -> dg.AssetCheckSpec:
    """An asset check whose results carry the video's partition, so the UI shows whether each
    video passed (an unpartitioned check of a partitioned asset shows only the latest result).

    Partitioned check specs are a preview feature of Dagster 1.13; the dagster family is pinned
    to one release, so its one-line preview warning is not repeated on every import.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, description=description, partitions_def=videos_partitions)
