"""Time from a person's caption OCR request to the updated captions.db, for one caption.

Renders the demo video (20 s, 1280x720, 8 cues), processes it through the real assets in a
fresh CAPTIONACC_HOME, then repeats: the editor stand-in moves the end of one caption back by
one frame and confirms it (not timed), inserts the request row (t0), and the time is taken when
the stored captions.db changes (its mtime on the local storage).

- default: the run is executed in this process exactly as the sensor tags it (what a run
  worker does once it has started: no queue wait, no process start);
- `--daemon`: a real `dagster-daemon` runs the code location; the time is split into the sensor
  tick (request -> RUN_ENQUEUED), the queue (-> RUN_STARTING), the run's process start (-> the
  captions_db step start: a new process loads the code location) and the step (-> captions.db
  updated). "Excluding queue wait" is RUN_STARTING -> captions.db updated.

    .venv/bin/python benchmarks/bench_caption_ocr_request.py --repeat 5
    .venv/bin/python benchmarks/bench_caption_ocr_request.py --repeat 3 --daemon
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def stored_mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def wait_changed(path: Path, before: int, timeout_s: float = 600) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stored_mtime(path) != before:
            return time.time()
        time.sleep(0.005)
    raise TimeoutError(f"{path} did not change within {timeout_s} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--daemon", action="store_true", help="through dagster-daemon and the run queue")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ocr-request-"))
    os.environ.update(
        CAPTIONACC_HOME=str(work / "home"),
        DAGSTER_HOME=str(work / "home" / "dagster"),
        CAPTIONACC_SENSOR_INTERVAL_S="1",
    )

    import dagster as dg

    from captionacc_assets.definitions import ALL_ASSETS
    from captionacc_assets.defs.jobs import REQUESTED_OCR_SELECTION
    from captionacc_assets.defs.run_tags import caption_ocr_run_tags
    from captionacc_assets.platform import LocalPlatform
    from captionacc_assets.synthetic.generate import demo_spec, write_video
    from captionacc_assets_tests.editor import EditorStandIn, stored_captions_table

    daemon = None
    if args.daemon:
        from captionacc_assets_tests.automation.daemon import LightDaemon

        daemon = LightDaemon(work, module="captionacc_assets.definitions")
    platform = LocalPlatform.open()
    video_id = platform.upload(write_video(demo_spec(0), work / "demo.mp4"), "bench", video_id="demo")
    assert platform.initial_processing(video_id).success
    platform.approve(video_id, None, requested_by="bench")
    assert platform.approved_processing(video_id).success
    keys = platform.keys(video_id)
    stored = platform.storage.local_path(keys.captions_db)
    editor = EditorStandIn(platform.catalog, platform.storage, user="editor-bench")
    if daemon:
        daemon.start()

    rows, _ = stored_captions_table(platform.storage, keys.captions_db)
    caption = next(r for r in rows if r["caption_frame_extents_state"] != "gap")
    print(f"load average at start: {os.getloadavg()}")
    totals, splits = [], []
    for attempt in range(args.repeat):
        end = caption["end_frame_index"] - 1 - attempt
        editor.edit(video_id, lambda e: (e.move_end(caption["id"], end), e.confirm(caption["id"])))
        before = stored_mtime(stored)
        t0 = time.time()
        request = platform.catalog.request_caption_ocr(video_id, caption_ids=[caption["id"]], requested_by="bench")
        if daemon is None:
            result = dg.materialize(
                ALL_ASSETS,
                selection=REQUESTED_OCR_SELECTION,
                partition_key=video_id,
                instance=platform.instance,
                resources=platform.resources,
                tags=caption_ocr_run_tags("bench", "free", [request["id"]], "bench"),
            )
            assert result.success and stored_mtime(stored) != before, "captions.db was not updated"
            # The run writes the exports after captions.db; the file's mtime says when captions.db was done.
            updated = stored_mtime(stored) / 1e9
            totals.append(updated - t0)
            print(
                f"request {request['id']}: captions.db updated {updated - t0:.2f} s after the request "
                f"(the run, exports included: {time.time() - t0:.2f} s)"
            )
        else:
            updated = wait_changed(stored, before)
            row = platform.catalog.get_caption_ocr_request(request["id"])
            run_id = row["run_id"]

            def at(kind, step=None):
                return next(
                    e.timestamp
                    for e in daemon.instance.all_logs(run_id, of_type=kind)
                    if step is None or e.step_key == step
                )

            kinds = dg.DagsterEventType
            enqueued, starting = at(kinds.RUN_ENQUEUED), at(kinds.RUN_STARTING)
            step = at(kinds.STEP_START, "captions_db")
            split = (enqueued - t0, starting - enqueued, step - starting, updated - step)
            splits.append(split)
            totals.append(updated - starting)
            print(
                f"request {request['id']}: sensor tick {split[0]:.2f} s, queued {split[1]:.2f} s, "
                f"run process start {split[2]:.2f} s, captions_db step to updated captions.db {split[3]:.2f} s"
            )
            while daemon.instance.get_run_by_id(run_id).status != dg.DagsterRunStatus.SUCCESS:
                daemon.assert_alive()
                time.sleep(0.1)
    what = "dequeued run -> captions.db" if daemon else "request -> captions.db (in-process run)"
    print(
        f"{what}: median {statistics.median(totals):.2f} s, min {min(totals):.2f} s, max {max(totals):.2f} s "
        f"over {len(totals)}; load average at end: {os.getloadavg()}"
    )
    if daemon:
        print(
            f"median step alone: {statistics.median(s[3] for s in splits):.2f} s; median sensor tick + queue: "
            f"{statistics.median(s[0] + s[1] for s in splits):.2f} s"
        )
        daemon.stop()
    platform.instance.dispose()


if __name__ == "__main__":
    main()
