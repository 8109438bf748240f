"""Job 3 on a person's request: the median-frame OCR of just the captions they asked for.

After a person confirms or moves a caption's boundaries in the web editor, they ask for its
OCR again (SPEC §2, the "caption boundary confirmed" flow). This job answers a batch of such
requests for one video:

1. Under the `captions` editor lock it reads the *current* captions.db, and resolves each
   request (caption ids, or exact frame spans) to rows; a request naming what is not there is
   rejected with a message, and nothing is written for it.
2. With the lock released (a person may keep editing) it OCRs the per-pixel median of
   exactly each requested span, from the cropped frames of the video's current version
   (`read_spans`, the Modal function's body: chunks in, text and confidence out).
3. Under the lock again it publishes with optimistic concurrency: if the stored captions.db
   is not the one it read (its content hash changed), it re-reads it and merges, writing an
   answer only into a row that still has the span that was read. Only those rows'
   `caption_ocr*` columns change; every other row, column and the metadata stay as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from captionacc_assets.core.caption_assembly import frames_for_median
from captionacc_assets.core.caption_text_fixes import normalize_caption_text
from captionacc_assets.core.chunks import MANIFEST_NAME, read_manifest
from captionacc_assets.core.dbs.stored_captions import (
    CaptionOcr,
    StoredCaptions,
    file_sha256,
    read_stored_captions,
    write_caption_ocr,
)
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.extents.decode import CaptionSpan
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.ocr.engine import OcrEngine
from captionacc_assets.compute.caption_ocr import _fetch_chunks, _read_span_texts
from captionacc_assets.compute.object_store import GZIP, ObjectStore
from captionacc_assets.compute.progress import Progress, Timings, no_progress

Span = tuple[int, int]
ZoneSpan = tuple[int, Span]  # (caption zone, inclusive span)
PUBLISH_ATTEMPTS = 3


# -- the compute part: spans in, text out (the Modal function `caption_ocr` with `spans`) ----------
@dataclass
class SpanOcrResult:
    spans: list[dict]  # {"start", "end", "text", "confidence"}, in the order asked
    frame_count: int
    timings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def texts(self) -> dict[Span, tuple[str, float]]:
        return {(s["start"], s["end"]): (s["text"], s["confidence"]) for s in self.spans}


def read_spans(
    store: ObjectStore,
    keys: VideoKeys,
    *,
    version: int,
    spans: list[Span],
    engine: OcrEngine,
    work_dir: Path,
    progress: Progress = no_progress,
    zone: int = 0,
) -> SpanOcrResult:
    """OCR of the median of each inclusive span's frames, from `cropped_frames_v{version}` (of `zone`).

    The spans must not overlap (they are rows of one partition). Only the chunks that hold
    their median frames are downloaded and decoded.
    """
    timings = Timings()
    work_dir.mkdir(parents=True, exist_ok=True)
    prefix = keys.cropped_frames_prefix(version, zone=zone)
    ordered = sorted({(int(s), int(e)) for s, e in spans})
    with timings.measure("manifest"):
        try:
            manifest = read_manifest(store.get_file(prefix + MANIFEST_NAME, work_dir / MANIFEST_NAME))
        except FileNotFoundError:
            where = f"zone {zone} of " if zone else ""
            raise InputError(
                f"video {keys.video!r} has no cropped frames for {where}version {version}: "
                f"approve its layout and let the captions run first"
            ) from None
    n = manifest["frame_count"]
    for (start, end), after in zip(ordered, ordered[1:] + [None]):
        if not 0 <= start <= end < n:
            raise InputError(f"frame span [{start}, {end}] is outside the video's frames [0, {n})")
        if after is not None and after[0] <= end:
            raise InputError(f"frame spans [{start}, {end}] and [{after[0]}, {after[1]}] overlap")
    wanted = {start: frames_for_median(CaptionSpan(start, end, "predicted", 0.0)) for start, end in ordered}
    chunks_dir = work_dir / "chunks"
    with timings.measure("download_chunks"):
        _fetch_chunks(store, prefix, manifest, {i for v in wanted.values() for i in v}, chunks_dir)
    texts = _read_span_texts(chunks_dir, manifest, wanted, engine, timings, progress)
    ends = dict(ordered)
    read = {(start, ends[start]): (normalize_caption_text(t.text), float(t.confidence)) for start, t in texts.items()}
    return SpanOcrResult(
        spans=[
            {"start": s, "end": e, "text": read[(s, e)][0], "confidence": round(read[(s, e)][1], 4)}
            for s, e in ((int(a), int(b)) for a, b in spans)
        ],
        frame_count=n,
        timings=dict(timings),
    )


# -- answering requests: read under the lock, OCR, publish under the lock --------------------------
@dataclass(frozen=True)
class OcrRequest:
    id: int
    caption_ids: list[int] | None = None
    frame_spans: list[Span] | None = None

    @classmethod
    def from_row(cls, row: dict) -> "OcrRequest":
        spans = row.get("frame_spans")
        return cls(int(row["id"]), row.get("caption_ids"), [tuple(s) for s in spans] if spans else None)


@dataclass
class RequestedOcrResult:
    answered: dict[int, dict]  # caption id -> {"span", "text", "confidence"} written
    accepted: list[int]  # request ids answered
    rejected: dict[int, str]  # request id -> why nothing was written for it
    moved: dict[int, Span | None]  # caption id -> its new span (None: deleted) when a person changed it meanwhile
    merged: bool  # the stored captions.db changed while the OCR ran; merged into it
    frame_count: int
    captions_db_key: str
    sha256_read: str = ""
    sha256_published: str = ""
    timings: dict = field(default_factory=dict)


def _resolve(request: OcrRequest, stored: StoredCaptions) -> dict[int, ZoneSpan]:
    """The caption ids a request names, with their zone and span; `InputError` saying what does not
    exist. A frame span names the row of that exact span in each zone that has one."""
    by_id = stored.by_id()
    by_span: dict[Span, list[int]] = {}
    for c in stored.captions:
        by_span.setdefault(c.span, []).append(c.id)
    n = stored.frame_count
    targets: dict[int, ZoneSpan] = {}
    for caption_id in request.caption_ids or []:
        if caption_id not in by_id:
            ids = sorted(by_id)
            where = f"its ids are {ids[0]}..{ids[-1]}" if ids else "it has no rows"
            raise InputError(
                f"request {request.id}: caption id {caption_id} does not exist in captions.db "
                f"({where}); reload the editor and ask again"
            )
        targets[caption_id] = (by_id[caption_id].row.zone, by_id[caption_id].span)
    for start, end in request.frame_spans or []:
        if not 0 <= start <= end < n:
            raise InputError(
                f"request {request.id}: frame span [{start}, {end}] is outside the video's frames [0, {n})"
            )
        if (start, end) not in by_span:
            raise InputError(
                f"request {request.id}: no caption spans exactly [{start}, {end}]; move its "
                f"boundaries there first, or ask by caption id"
            )
        for caption_id in by_span[(start, end)]:
            targets[caption_id] = (by_id[caption_id].row.zone, (start, end))
    return targets


def _fetch(store: ObjectStore, keys: VideoKeys, dest: Path) -> Path:
    try:
        return store.get_file(keys.captions_db, dest)
    except FileNotFoundError:
        raise InputError(
            f"video {keys.video!r} has no captions yet: approve its layout and wait for "
            f"captions_db before asking for a caption's OCR"
        ) from None


def answer_requests(
    store: ObjectStore,
    keys: VideoKeys,
    requests: list[OcrRequest],
    *,
    hold_lock: Callable[[], AbstractContextManager],
    read: Callable[[int, list[Span]], SpanOcrResult],
    work_dir: Path,
    progress: Progress = no_progress,
) -> RequestedOcrResult:
    """Answer `requests` into the published captions.db (see the module docstring).

    `hold_lock()` holds the `captions` editor lock for a block; `read(zone, spans)` OCRs spans of
    one caption zone's cropped frames (in-process or on Modal), one call per zone asked for. Raises `InputError` when captions.db is missing, corrupt or of a
    newer schema, or when every request is rejected; nothing is written then.
    """
    timings = Timings()
    work_dir.mkdir(parents=True, exist_ok=True)
    what = f"captions.db of video {keys.video!r}"
    with timings.measure("read"), hold_lock():
        stored = read_stored_captions(_fetch(store, keys, work_dir / "read.db.gz"), what)
    targets: dict[int, ZoneSpan] = {}
    accepted, rejected = [], {}
    for request in requests:
        try:
            named = _resolve(request, stored)
        except InputError as error:
            rejected[request.id] = str(error)
            continue
        targets.update(named)
        accepted.append(request.id)
    if not targets:
        raise InputError("; ".join(rejected.values()) or "no caption OCR request to answer")
    progress(f"caption OCR of {len(targets)} caption(s) requested by {len(accepted)} request(s)")

    with timings.measure("ocr"):
        texts = {
            (zone, span): text
            for zone in sorted({z for z, _ in targets.values()})
            for span, text in read(zone, sorted({s for z, s in targets.values() if z == zone})).texts().items()
        }

    with timings.measure("publish"), hold_lock():
        base, merged = stored, False
        for attempt in range(PUBLISH_ATTEMPTS):
            current_path = _fetch(store, keys, work_dir / f"current-{attempt}.db.gz")
            if file_sha256(current_path) != base.sha256:
                base, merged = read_stored_captions(current_path, what), True
                progress(f"{what} changed while the OCR ran (an edit meanwhile): merging into it")
            now = {c.id: (c.row.zone, c.span) for c in base.captions}
            answers = {cid: CaptionOcr(*texts[target]) for cid, target in targets.items() if now.get(cid) == target}
            moved = {
                cid: (now[cid][1] if cid in now else None) for cid, target in targets.items() if now.get(cid) != target
            }
            out = work_dir / f"publish-{attempt}.db.gz"
            if answers:
                write_caption_ocr(current_path, out, answers)
            # Nothing may have changed since this attempt read it; else merge again.
            if file_sha256(_fetch(store, keys, work_dir / f"check-{attempt}.db.gz")) != base.sha256:
                continue
            if answers:
                store.put_file(keys.captions_db, out, GZIP)
            break
        else:
            raise RuntimeError(
                f"{what} kept changing during {PUBLISH_ATTEMPTS} publish attempts "
                f"although the server holds its editor lock"
            )
    return RequestedOcrResult(
        answered={
            cid: {
                "span": list(targets[cid][1]),
                "zone": targets[cid][0],
                "text": a.caption_ocr,
                "confidence": a.caption_ocr_confidence,
            }
            for cid, a in answers.items()
        },
        accepted=accepted,
        rejected=rejected,
        moved=moved,
        merged=merged,
        frame_count=stored.frame_count,
        captions_db_key=keys.captions_db,
        sha256_read=stored.sha256,
        sha256_published=file_sha256(out) if answers else base.sha256,
        timings=dict(timings),
    )
