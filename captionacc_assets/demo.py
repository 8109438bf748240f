"""`captionacc demo`: a short sample video with known burned-in captions, processed end to end."""

import sys

from captionacc_assets.core.export import TimedCaption


def _cue_line(start: float, end: float, text: str) -> str:
    return f"{start:6.1f}-{end:6.1f}s  {text.replace(chr(10), ' / ')}"


def run_demo(seed: int = 0) -> int:
    from captionacc_assets.platform import LocalPlatform
    from captionacc_assets.synthetic.generate import demo_spec, write_video

    platform = LocalPlatform.open()
    platform.require_no_automation()
    spec = demo_spec(seed)
    video_path = platform.paths.home / "demo" / f"demo-{seed}.mp4"
    video_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"rendering {spec.duration_s:.0f} s demo video -> {video_path}")
    write_video(spec, video_path)

    video_id = platform.upload(video_path, "demo")
    initial = platform.initial_processing(video_id)
    if not initial.success:
        print(f"initial processing failed: {initial.error}", file=sys.stderr)
        return 1
    platform.approve(video_id, None, requested_by="demo")
    approved = platform.approved_processing(video_id)
    if not approved.success:
        print(f"processing failed: {approved.error}", file=sys.stderr)
        return 1
    print(f"processed video {video_id} in {initial.seconds + approved.seconds:.1f} s\n")

    predicted = [
        TimedCaption(c["start_frame_index"], c["end_frame_index"], c["text"]) for c in _captions(platform, video_id)
    ]
    print(f"{'truth':<48} | pipeline")
    print("-" * 100)
    for i in range(max(len(spec.cues), len(predicted))):
        truth = _cue_line(spec.cues[i].start_s, spec.cues[i].end_s, spec.cues[i].text) if i < len(spec.cues) else ""
        got = ""
        if i < len(predicted):
            c = predicted[i]
            got = _cue_line(c.start_frame_index / 10, (c.end_frame_index + 1) / 10, c.text)
        print(f"{truth:<48} | {got}")
    exact = sum(1 for cue in spec.cues if any(p.text == cue.text for p in predicted))
    print(f"\n{len(predicted)} captions found, {len(spec.cues)} in the truth, {exact} with exact text")
    return 0


def _captions(platform, video_id: str) -> list[dict]:
    import json

    keys = platform.keys(video_id)
    return json.loads(platform.storage.get_bytes(keys.export("json")))["captions"]
