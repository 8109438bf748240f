"""A video processed through the real assets on a fresh embedded default, for the tests that
start from published captions (end to end, a person's work, the editor loop)."""

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import VideoSpec


@contextmanager
def processed_video(
    home: Path, spec: VideoSpec, tenant: str = "tenant-a", video_id: str | None = None
) -> Iterator[tuple]:
    """(platform, video id, the approval's StageRun) with CAPTIONACC_HOME = `home`: the video
    rendered, uploaded, initially processed, its proposed layout approved and captioned."""
    from captionacc_assets.platform import LocalPlatform

    mp = pytest.MonkeyPatch()
    mp.setenv("CAPTIONACC_HOME", str(home))
    mp.setenv("DAGSTER_HOME", str(home / "dagster"))
    platform = LocalPlatform.open()
    try:
        video_id = platform.upload(
            write_video(spec, home.parent / f"{video_id or 'video'}.mp4"), tenant, video_id=video_id
        )
        initial = platform.initial_processing(video_id)
        assert initial.success, initial.error
        platform.approve(video_id, None, requested_by="test")
        approved = platform.approved_processing(video_id)
        assert approved.success, approved.error
        yield platform, video_id, approved
    finally:
        platform.instance.dispose()
        mp.undo()
