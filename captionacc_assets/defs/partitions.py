"""The dynamic partition set: one partition per video, keyed by the video id."""

import dagster as dg

videos_partitions = dg.DynamicPartitionsDefinition(name="videos")
