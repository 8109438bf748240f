"""The cropped-frames chunk pyramid: VP9 WebM chunks at modulo levels 16/4/1 (SPEC §3).

Every 10 Hz index belongs to exactly one level: 16 if `i % 16 == 0`, else 4 if
`i % 4 == 0`, else 1. A level-L chunk covers `[s, s + 32*L)` with `s` a multiple of
`32*L`, holds that level's members in order at 10 fps, and is named
`modulo_{L}/chunk_{s:010d}.webm`. The editor loads coarse levels first and refines.
The writer and the reader both derive names from `chunk_name`, and `manifest.json`
lists every chunk (tails included) with its indices, so no client guesses.
"""

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from captionacc_assets.core.index_space import INDEX_RATE_HZ

CHUNK_FRAMES = 32
LEVELS = (16, 4, 1)
FRAME_RATE_HZ = INDEX_RATE_HZ  # a chunk plays its frames at the index rate: one frame per index
MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
# VP9 quality: at crf 30 the median-frame OCR lost narrow word spaces in Latin text;
# crf 24 keeps them, for ~1.5x the bytes and the same realtime encoding speed.
DEFAULT_CRF = 24


def chunk_level(i: int) -> int:
    return 16 if i % 16 == 0 else 4 if i % 4 == 0 else 1


def chunk_start(i: int) -> int:
    span = CHUNK_FRAMES * chunk_level(i)
    return (i // span) * span


def chunk_name(level: int, start: int) -> str:
    return f"modulo_{level}/chunk_{start:010d}.webm"


@dataclass(frozen=True)
class ChunkSpec:
    level: int
    start: int
    frame_indices: tuple[int, ...]

    @property
    def name(self) -> str:
        return chunk_name(self.level, self.start)

    def as_dict(self) -> dict:
        return {"name": self.name, "level": self.level, "start": self.start, "frame_indices": list(self.frame_indices)}


def plan_chunks(n: int) -> list[ChunkSpec]:
    """Every chunk for `n` indices, coarse levels first, each level by start; tails included."""
    chunks = []
    for level in LEVELS:
        span = CHUNK_FRAMES * level
        for start in range(0, n, span):
            members = tuple(i for i in range(start, min(start + span, n)) if chunk_level(i) == level)
            if members:
                chunks.append(ChunkSpec(level, start, members))
    return chunks


class ChunkPyramidWriter:
    """Streams 10 Hz crops into the pyramid, encoding each chunk whole once its last frame is in.

    A chunk's frames wait as yuv420p (the encoder's own conversion, done early) and one VP9
    encoder is open at a time. An encoder's buffers do not depend on how many frames it gets:
    ~35 MB for a 1026x142 crop, ~135 MB for 3072x410; three open at once, one per level, were
    most of the crop step's peak at 4K. Waiting frames are at most a chunk per level, half an
    RGB crop's bytes each. Each chunk's bytes are what an encoder fed frame by frame writes.

    Frames are padded (edge pixels repeated) to even width and height for yuv420p;
    the manifest records the real size so readers crop the padding off.
    """

    def __init__(
        self,
        out_dir: Path,
        n: int,
        *,
        crf: int = DEFAULT_CRF,
        cpu_used: int = 8,
        threads: int | None = None,
    ):
        self.out_dir = Path(out_dir)
        self.n = n
        self.crf = crf
        self.cpu_used = cpu_used
        self.threads = threads or min(8, os.cpu_count() or 1)
        self._plan = {(c.level, c.start): c for c in plan_chunks(n)}
        self._waiting: dict[int, list[av.VideoFrame]] = {}  # level -> its current chunk's frames so far
        self._to_yuv = VideoReformatter()  # one for all frames: its conversion context is kept, as an encoder's
        self._next_index = 0
        self._size: tuple[int, int] | None = None  # (width, height) of the real crops
        self._closed = False

    def add(self, index: int, rgb: np.ndarray) -> None:
        if self._closed:
            raise ValueError("ChunkPyramidWriter is closed")
        if index != self._next_index:
            raise ValueError(f"frames must arrive in order 0..{self.n - 1}: got {index}, expected {self._next_index}")
        if index >= self.n:
            raise ValueError(f"frame index {index} is outside [0, {self.n})")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"frames must be HxWx3 uint8 RGB, got {rgb.shape} {rgb.dtype}")
        height, width = rgb.shape[:2]
        if self._size is None:
            self._size = (width, height)
        elif self._size != (width, height):
            raise ValueError(f"frame {index} is {width}x{height}, earlier frames were {self._size[0]}x{self._size[1]}")

        level = chunk_level(index)
        frames = self._waiting.setdefault(level, [])
        # the frame the encoder would make of the RGB crop (PyAV's encode converts with these defaults)
        frames.append(
            self._to_yuv.reformat(av.VideoFrame.from_ndarray(_pad_even(rgb), format="rgb24"), format="yuv420p")
        )
        spec = self._plan[(level, chunk_start(index))]
        if index == spec.frame_indices[-1]:
            _encode_chunk(self.out_dir, spec, frames, crf=self.crf, cpu_used=self.cpu_used, threads=self.threads)
            del self._waiting[level]
        self._next_index += 1

    def close(self) -> dict:
        """Write `manifest.json` once every chunk is written, and return it."""
        if self._closed:
            raise ValueError("ChunkPyramidWriter is already closed")
        self._closed = True
        self._waiting.clear()
        if self._next_index != self.n:
            raise ValueError(f"only {self._next_index} of {self.n} frames were added; the pyramid is incomplete")
        width, height = self._size or (0, 0)
        encoded_width, encoded_height = (width + width % 2, height + height % 2) if self._size else (0, 0)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "frame_rate_hz": FRAME_RATE_HZ,
            "frame_count": self.n,
            "width": width,
            "height": height,
            "encoded_width": encoded_width,
            "encoded_height": encoded_height,
            "codec": "vp9",
            "chunks": [spec.as_dict() for spec in plan_chunks(self.n)],
        }
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
        return manifest


def _add_vp9_stream(container, width: int, height: int, *, crf: int, cpu_used: int, threads: int):
    """The chunks' VP9 stream: constant quality, libvpx's fastest realtime speed, no lag."""
    stream = container.add_stream("libvpx-vp9", rate=FRAME_RATE_HZ)
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    stream.thread_count = threads
    stream.options = {
        "crf": str(crf),
        "b": "0",
        "deadline": "realtime",
        "cpu-used": str(cpu_used),
        "row-mt": "1",
        "lag-in-frames": "0",
        "tile-columns": "2",
    }
    return stream


def _encode_chunk(
    out_dir: Path, spec: ChunkSpec, frames: list[av.VideoFrame], *, crf: int, cpu_used: int, threads: int
) -> None:
    """One chunk's WebM file, frames at pts 0, 1, 2, ... in time base 1/10."""
    if len(frames) != len(spec.frame_indices):
        raise ValueError(f"chunk {spec.name} got {len(frames)} frames, expected {len(spec.frame_indices)}")
    path = out_dir / spec.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="webm") as container:
        stream = _add_vp9_stream(
            container, frames[0].width, frames[0].height, crf=crf, cpu_used=cpu_used, threads=threads
        )
        for pts, frame in enumerate(frames):
            frame.pts = pts
            frame.time_base = Fraction(1, FRAME_RATE_HZ)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _pad_even(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        return np.ascontiguousarray(rgb)
    return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def read_manifest(path: Path | str) -> dict:
    """Load a `manifest.json` (or the one inside a chunks directory) and check its schema."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path} has schema_version {manifest.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    return manifest


def iter_chunk_frames(chunks_dir: Path, manifest: dict, indices: Iterable[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield `(index, rgb)` in ascending index order, decoding only the chunks that hold them.

    Each needed chunk is decoded once; at most one chunk's wanted frames per level are held.
    """
    chunks_dir = Path(chunks_dir)
    by_name = {chunk["name"]: chunk for chunk in manifest["chunks"]}
    width, height = manifest["width"], manifest["height"]
    wanted = sorted(set(int(i) for i in indices))
    n = manifest["frame_count"]
    if wanted and not (0 <= wanted[0] and wanted[-1] < n):
        raise ValueError(f"frame indices must be in [0, {n}), got {wanted[0]}..{wanted[-1]}")

    members: dict[str, list[int]] = {}
    for i in wanted:
        members.setdefault(chunk_name(chunk_level(i), chunk_start(i)), []).append(i)

    decoded: dict[int, tuple[str, dict[int, np.ndarray]]] = {}  # level -> (chunk name, frames)
    for i in wanted:
        level = chunk_level(i)
        name = chunk_name(level, chunk_start(i))
        if level not in decoded or decoded[level][0] != name:
            if name not in by_name:
                raise ValueError(f"manifest lists no chunk {name} for frame {i}")
            decoded[level] = (name, _decode_chunk(chunks_dir / name, by_name[name], set(members[name]), width, height))
        yield i, decoded[level][1].pop(i)


def _decode_chunk(path: Path, chunk: dict, wanted: set[int], width: int, height: int) -> dict[int, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError(f"chunk {chunk['name']} listed in the manifest is missing at {path}")
    frames = {}
    indices = chunk["frame_indices"]
    with av.open(str(path)) as container:
        # One decoder thread: a chunk is a few dozen small frames, for which FFmpeg's frame threads
        # cost more than they give (600 crops of 1025x141: 0.92 s against 1.13 s), and the OCR
        # that reads them has the other cores.
        container.streams.video[0].thread_type = "NONE"
        position = 0
        for frame in container.decode(video=0):
            if position >= len(indices):
                break
            index = indices[position]
            if index in wanted:
                frames[index] = frame.to_ndarray(format="rgb24")[:height, :width]
                if len(frames) == len(wanted):
                    break
            position += 1
    missing = wanted - frames.keys()
    if missing:
        raise ValueError(
            f"chunk {chunk['name']} has fewer frames than its manifest lists (missing {sorted(missing)[:5]})"
        )
    return frames
