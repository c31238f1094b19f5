"""Drive one ComfyUI prompt and measure it: per-node times from the WebSocket, ComfyUI execution time,
peak GPU memory, and the frames it saved.

Part of the operators' smoke and benchmark mode (`heritage gpu-smoke`). Run with the Python that has
aiohttp (ComfyUI's own environment). Prints one JSON object per run on stdout.

    python3 gpu_smoke.py --url http://127.0.0.1:8188 --prompt prompt.json \
        --width 832 --height 480 --length 65 --steps 8 --multiplier 2 --runs 2
    python3 gpu_smoke.py --url ... --object-info object_info.json --prompt prompt.json
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import aiohttp


class PeakGpuMemory:
    """Polls nvidia-smi for the GPU's used memory (MiB) while a prompt runs; keeps the peak."""

    def __init__(self, interval_ms: int = 100) -> None:
        self.interval_ms = interval_ms
        self.peak_mib = 0
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "PeakGpuMemory":
        try:
            self._process = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", f"-lms={self.interval_ms}"],
                stdout=subprocess.PIPE,
                text=True,
            )
        except FileNotFoundError:
            return self
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            value = line.strip().split("\n")[0]
            if value.isdigit():
                self.peak_mib = max(self.peak_mib, int(value))

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=5)


def noise_png(width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def apply_parameters(prompt: dict, args: argparse.Namespace, run: int) -> dict:
    """Set the request's parameters on the proven prompt's nodes, found by class_type."""
    prompt = copy.deepcopy(prompt)
    samplers = sorted((node for node in prompt.values() if node["class_type"] == "KSamplerAdvanced"), key=lambda n: n["inputs"]["start_at_step"])
    split = args.steps // 2
    seed = args.seed + run
    for index, sampler in enumerate(samplers):
        sampler["inputs"].update(steps=args.steps, noise_seed=seed)
        sampler["inputs"]["end_at_step" if index == 0 else "start_at_step"] = split
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "WanFirstLastFrameToVideo":
            inputs.update(width=args.width, height=args.height, length=args.length)
        elif node["class_type"] == "RIFE VFI":
            inputs.update(multiplier=args.multiplier)
            if args.rife_dtype:
                inputs.update(dtype=args.rife_dtype)
            if args.rife_batch_size:
                inputs.update(batch_size=args.rife_batch_size)
            if args.rife_clear_cache:
                inputs.update(clear_cache_after_n_frames=args.rife_clear_cache)
        elif node["class_type"] == "UNETLoader" and args.weight_dtype:
            inputs.update(weight_dtype=args.weight_dtype)
        elif node["class_type"] == "CLIPTextEncode" and inputs["text"] and not inputs["text"].startswith("blurry"):
            inputs["text"] = f"{inputs['text']} (run {run})"
    if args.compile:
        for node_id, node in list(prompt.items()):
            if node["class_type"] == "ModelSamplingSD3":
                compiled_id = f"{node_id}0"
                prompt[compiled_id] = {"class_type": "TorchCompileModel", "inputs": {"model": [node_id, 0], "backend": "inductor"}}
                for other in prompt.values():
                    if other["class_type"] == "KSamplerAdvanced" and other["inputs"]["model"] == [node_id, 0]:
                        other["inputs"]["model"] = [compiled_id, 0]
    return prompt


async def upload(session: aiohttp.ClientSession, url: str, name: str, data: bytes) -> None:
    form = aiohttp.FormData()
    form.add_field("image", data, filename=name, content_type="image/png")
    form.add_field("overwrite", "true")
    async with session.post(f"{url}/upload/image", data=form) as response:
        response.raise_for_status()


async def run_prompt(session: aiohttp.ClientSession, url: str, prompt: dict) -> dict:
    client_id = uuid.uuid4().hex
    node_times: dict[str, float] = {}
    classes = {node_id: node["class_type"] for node_id, node in prompt.items()}
    async with session.ws_connect(f"{url.replace('http', 'ws', 1)}/ws?clientId={client_id}", max_msg_size=0) as ws:
        submitted = time.monotonic()
        async with session.post(f"{url}/prompt", json={"prompt": prompt, "client_id": client_id}) as response:
            body = await response.json()
            if response.status != 200:
                return {"ok": False, "validation": body}
        prompt_id = body["prompt_id"]
        started = current = None
        current_at = 0.0
        cached: list[str] = []
        error = None
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(message.data)
            data = event.get("data", {})
            if data.get("prompt_id") not in (None, prompt_id):
                continue
            now = time.monotonic()
            kind = event["type"]
            if kind == "execution_start":
                started = now
            elif kind == "execution_cached":
                cached = data.get("nodes", [])
            elif kind == "executing":
                if current is not None:
                    node_times[current] = node_times.get(current, 0.0) + now - current_at
                current, current_at = data.get("node"), now
                if current is None:
                    break
            elif kind == "execution_error":
                error = {k: data.get(k) for k in ("node_id", "node_type", "exception_type", "exception_message")}
                break
            elif kind == "execution_success":
                if current is not None:
                    node_times[current] = node_times.get(current, 0.0) + now - current_at
                    current = None
                break
        finished = time.monotonic()
    async with session.get(f"{url}/history/{prompt_id}") as response:
        history = (await response.json()).get(prompt_id, {})
    images = [image for output in history.get("outputs", {}).values() for image in output.get("images", [])]
    return {
        "ok": error is None,
        "error": error,
        "prompt_id": prompt_id,
        "queue_wait_s": round((started or finished) - submitted, 3),
        "execution_s": round(finished - (started or submitted), 3),
        "nodes_s": {f"{node_id} {classes.get(node_id, '?')}": round(t, 3) for node_id, t in node_times.items()},
        "cached_nodes": cached,
        "images": images,
    }


async def image_size(session: aiohttp.ClientSession, url: str, image: dict) -> tuple[int, int]:
    from PIL import Image

    params = {"filename": image["filename"], "subfolder": image.get("subfolder", ""), "type": image.get("type", "output")}
    async with session.get(f"{url}/view", params=params) as response:
        return Image.open(io.BytesIO(await response.read())).size


async def main_async(args: argparse.Namespace) -> int:
    template = json.loads(Path(args.prompt).read_text())
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        if args.object_info:
            classes = sorted({node["class_type"] for node in template.values()} | {"TorchCompileModel"})
            info = {}
            for name in classes:
                async with session.get(f"{url_of(args)}/object_info/{name}") as response:
                    info.update(await response.json())
            Path(args.object_info).write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
            print(json.dumps({"object_info": sorted(info)}), flush=True)
            return 0
        await upload(session, url_of(args), "start.png", noise_png(args.image_width or args.width, args.image_height or args.height, 1))
        await upload(session, url_of(args), "end.png", noise_png(args.image_width or args.width, args.image_height or args.height, 2))
        failures = 0
        for run in range(args.runs):
            prompt = apply_parameters(template, args, run)
            wall_started = time.monotonic()
            with PeakGpuMemory() as memory:
                result = await run_prompt(session, url_of(args), prompt)
            expected = (args.length - 1) * args.multiplier + 1
            if result.get("images"):
                result["frame_size"] = list(await image_size(session, url_of(args), result["images"][-1]))
            result.update(
                label=args.label,
                run=run,
                request_wall_s=round(time.monotonic() - wall_started, 3),
                peak_gpu_memory_mib=memory.peak_mib,
                frames=len(result.pop("images", [])),
                expected_frames=expected,
                width=args.width,
                height=args.height,
                length=args.length,
                steps=args.steps,
                multiplier=args.multiplier,
            )
            result["frames_ok"] = result["frames"] == expected and result.get("frame_size") == [args.width, args.height]
            failures += 0 if result["ok"] and result["frames_ok"] else 1
            print(json.dumps(result), flush=True)
        return 1 if failures else 0


def url_of(args: argparse.Namespace) -> str:
    return args.url.rstrip("/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8188")
    parser.add_argument("--prompt", required=True, help="API-format prompt (the proven default workflow)")
    parser.add_argument("--object-info", help="write /object_info of the prompt's node types here and exit")
    parser.add_argument("--label", default="")
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--image-width", type=int, default=0, help="size of the synthetic start/end images (default: output size)")
    parser.add_argument("--image-height", type=int, default=0)
    parser.add_argument("--length", type=int, default=65)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--multiplier", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--weight-dtype", default="", help="UNETLoader weight_dtype override, e.g. fp8_e4m3fn_fast")
    parser.add_argument("--rife-dtype", default="", help="RIFE VFI dtype override: float32, float16 or bfloat16")
    parser.add_argument("--rife-batch-size", type=int, default=0, help="RIFE VFI batch_size override")
    parser.add_argument("--rife-clear-cache", type=int, default=0, help="RIFE VFI clear_cache_after_n_frames override")
    parser.add_argument("--compile", action="store_true", help="insert TorchCompileModel before both samplers")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
