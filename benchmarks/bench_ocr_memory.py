"""OCR CPU time and peak memory under the ways of handling freed native memory, one process each.

Reads 6 full 720p frames at 960 px and 12 caption crops at 1280 px (both engines warm), twice,
and prints the CPU seconds and the process's VmHWM / VmRSS. Modes: `default` (glibc as it is),
`trim` (malloc_trim after each read, what `core/ocr/rapid.py` does), `trim:N` (every N reads),
`mmap:MB` (glibc's mmap threshold fixed at MB), `arena` (onnxruntime's CPU memory arena on).
Run the modes alternately, twice or more: the machines are noisy.

    .venv/bin/python benchmarks/bench_ocr_memory.py VIDEO_720P.mp4 --modes default trim mmap:1 arena --rounds 2
"""

import argparse
import subprocess
import sys


def child(video: str, mode: str) -> None:
    import ctypes
    import os
    import time

    import av

    if mode.startswith("mmap"):
        ctypes.CDLL("libc.so.6").mallopt(-3, int(mode.split(":")[1]) << 20)  # M_MMAP_THRESHOLD
    import captionacc_assets.core.ocr.rapid as rapid

    if mode.startswith("trim"):
        every = int(mode.split(":")[1]) if ":" in mode else 1
        libc, calls, read = ctypes.CDLL("libc.so.6"), [0], rapid.RapidOcrEngine.recognize
        rapid.release_free_memory = lambda: None  # this mode decides when

        def recognize(self, image):
            try:
                return read(self, image)
            finally:
                calls[0] += 1
                if calls[0] % every == 0:
                    libc.malloc_trim(0)

        rapid.RapidOcrEngine.recognize = recognize
    else:
        rapid.release_free_memory = lambda: None
    if mode == "arena":
        params = rapid._model_params
        rapid._model_params = lambda models: {**params(models), "EngineConfig.onnxruntime.enable_cpu_mem_arena": True}
    frames = []
    with av.open(video) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % 30 == 15:
                frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) >= 12:
                break
    height = frames[0].shape[0]
    crops = [f[int(0.78 * height) : int(0.97 * height)].copy() for f in frames]
    full, band = rapid.RapidOcrEngine(max_side=960), rapid.RapidOcrEngine(max_side=1280)
    full.recognize(frames[0])
    band.recognize(crops[0])
    started = time.process_time()
    for _ in range(2):
        for f in frames[:6]:
            full.recognize(f)
        for c in crops:
            band.recognize(c)
    status = {
        line.split(":")[0]: int(line.split()[1]) // 1024
        for line in open(f"/proc/{os.getpid()}/status")
        if line.startswith(("VmHWM", "VmRSS"))
    }
    print(f"{mode:<10} cpu {time.process_time() - started:6.2f} s  HWM {status['VmHWM']} MB  RSS {status['VmRSS']} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video")
    parser.add_argument("--modes", nargs="+", default=["default", "trim", "mmap:1", "arena"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.video, args.child)
        return
    for _ in range(args.rounds):
        for mode in args.modes:
            subprocess.run([sys.executable, __file__, args.video, "--child", mode], check=True)


if __name__ == "__main__":
    main()
