"""Write synthetic stand-ins for the default model set (operators' GPU smoke and benchmark mode).

Every file has the exact name, folder, tensor names, shapes and dtypes that ComfyUI and
ComfyUI-Frame-Interpolation expect, filled with random values. The shapes are not typed in
here: they come from instantiating the model classes of the pinned sources on the meta
device. ComfyUI's own detection code then checks that it recognises each file as the real
model. The frames such models produce are noise; the graph, the memory and the timings
are those of the real workflow.

Usage (inside the GPU container, or wherever torch and the pinned sources are):
    python3 synthesize_models.py --manifest models.json --models-dir $MODEL_CACHE_DIR \
        --comfyui-dir $COMFYUI_DIR --frame-interpolation-dir $COMFYUI_DIR/custom_nodes/...
    python3 synthesize_models.py ... --plan    # print the tensor plan only, write nothing
    python3 synthesize_models.py ... --write-manifest synthetic-models.json
        # also a model manifest of the written files (their sha256 and size), so that the worker's
        # provisioner can verify the synthetic set as it verifies the real one
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

FP8 = torch.float8_e4m3fn
# Wan2.2 I2V A14B: the hyper-parameters published with the checkpoint. ComfyUI derives the
# same values back from the tensor shapes (checked in wan_state_plan).
WAN22_I2V_14B = {
    "model_type": "t2v",  # ComfyUI classifies Wan2.2 I2V (no CLIP image embedding) as t2v with in_dim 36
    "patch_size": (1, 2, 2),
    "text_len": 512,
    "in_dim": 36,
    "dim": 5120,
    "ffn_dim": 13824,
    "freq_dim": 256,
    "text_dim": 4096,
    "out_dim": 16,
    "num_heads": 40,
    "num_layers": 40,
    "window_size": (-1, -1),
    "qk_norm": True,
    "cross_attn_norm": True,
    "eps": 1e-6,
}
LIGHTX2V_RANK = 64
# The Comfy-Org scaled-fp8 marker. A two-element marker tells ComfyUI not to use fp8 matrix
# multiplication unless the loader asks for it (weight_dtype fp8_e4m3fn_fast).
SCALED_FP8_MARKER_ELEMENTS = 2


@dataclass(frozen=True)
class TensorSpec:
    shape: tuple[int, ...]
    dtype: torch.dtype
    kind: str  # "weight" | "norm" | "bias" | "scale" | "marker" | "bytes"


def import_sources(comfyui_dir: Path, frame_interpolation_dir: Path) -> None:
    sys.path.insert(0, str(comfyui_dir))
    sys.path.insert(0, str(frame_interpolation_dir))
    import comfy.cli_args  # noqa: F401  (parses no argv unless ComfyUI's main asked it to)

    if not torch.cuda.is_available():
        comfy.cli_args.args.cpu = True


def module_specs(module: torch.nn.Module, default_dtype: torch.dtype) -> dict[str, TensorSpec]:
    specs: dict[str, TensorSpec] = {}
    for name, tensor in module.state_dict(keep_vars=True).items():
        kind = "norm" if tensor.ndim == 1 and name.endswith(("norm.weight", "gamma", "norm_q.weight", "norm_k.weight")) else "weight"
        if tensor.ndim == 1 and name.endswith("bias"):
            kind = "bias"
        specs[name] = TensorSpec(tuple(tensor.shape), default_dtype, kind)
    return specs


def linear_names(module: torch.nn.Module) -> list[str]:
    return [name for name, child in module.named_modules() if isinstance(child, torch.nn.Linear)]


def scale_linears(specs: dict[str, TensorSpec], linears: list[str], marker_elements: int) -> dict[str, TensorSpec]:
    """The Comfy-Org scaled-fp8 layout: each Linear weight in fp8 with an fp32 scalar scale_weight.

    The `scaled_fp8` marker's length differs per loader: the diffusion experts take two elements, the
    text encoder's T5 declares an empty parameter and refuses any other size."""
    out = dict(specs)
    for name in linears:
        weight = out[f"{name}.weight"]
        out[f"{name}.weight"] = TensorSpec(weight.shape, FP8, "weight")
        out[f"{name}.scale_weight"] = TensorSpec((), torch.float32, "scale")
    out["scaled_fp8"] = TensorSpec((marker_elements,), FP8, "marker")
    return out


def wan_model(meta: bool = True) -> torch.nn.Module:
    import comfy.ldm.wan.model
    import comfy.ops

    return comfy.ldm.wan.model.WanModel(
        **WAN22_I2V_14B, device="meta" if meta else None, dtype=torch.bfloat16, operations=comfy.ops.disable_weight_init
    )


def wan_state_plan() -> dict[str, TensorSpec]:
    import comfy.model_detection

    model = wan_model()
    specs = scale_linears(module_specs(model, torch.bfloat16), linear_names(model), marker_elements=SCALED_FP8_MARKER_ELEMENTS)
    meta_sd = {k: torch.empty(s.shape, dtype=s.dtype, device="meta") for k, s in specs.items()}
    detected = comfy.model_detection.detect_unet_config(meta_sd, "")
    for key in ("dim", "ffn_dim", "num_layers", "num_heads", "in_dim", "out_dim", "model_type"):
        if detected.get(key) != WAN22_I2V_14B[key]:
            raise SystemExit(f"ComfyUI detects {key}={detected.get(key)!r}, expected {WAN22_I2V_14B[key]!r}")
    config = comfy.model_detection.model_config_from_unet(meta_sd, "")
    if config is None or type(config).__name__ != "WAN21_T2V" or config.scaled_fp8 != FP8:
        raise SystemExit(f"ComfyUI does not load this as the Wan2.2 I2V fp8-scaled model: {config!r}")
    return specs


def lightx2v_lora_plan() -> dict[str, TensorSpec]:
    """LoRA in the key format ComfyUI maps onto Wan (diffusion_model.<module>.lora_{down,up}.weight), fp32."""
    model = wan_model()
    specs: dict[str, TensorSpec] = {}
    for name in linear_names(model):
        if not name.startswith("blocks."):
            continue
        linear = model.get_submodule(name)
        specs[f"diffusion_model.{name}.lora_down.weight"] = TensorSpec((LIGHTX2V_RANK, linear.in_features), torch.float32, "weight")
        specs[f"diffusion_model.{name}.lora_up.weight"] = TensorSpec((linear.out_features, LIGHTX2V_RANK), torch.float32, "weight")
    return specs


def umt5_plan(comfyui_dir: Path) -> tuple[dict[str, TensorSpec], bytes]:
    import comfy.ops
    import comfy.sd
    import comfy.text_encoders.t5

    config = json.loads((comfyui_dir / "comfy/text_encoders/umt5_config_xxl.json").read_text())
    model = comfy.text_encoders.t5.T5(config, dtype=torch.bfloat16, device="meta", operations=comfy.ops.manual_cast)
    specs = scale_linears(module_specs(model, torch.bfloat16), linear_names(model), marker_elements=0)
    tokenizer = sentencepiece_model(config["vocab_size"])
    specs["spiece_model"] = TensorSpec((len(tokenizer),), torch.uint8, "bytes")
    meta_sd = {k: torch.empty(s.shape, dtype=s.dtype, device="meta") for k, s in specs.items()}
    if comfy.sd.detect_te_model(meta_sd) != comfy.sd.TEModel.T5_XXL:
        raise SystemExit("ComfyUI does not detect the synthetic umt5 as T5-XXL")
    return specs, tokenizer


def sentencepiece_model(vocab_size: int) -> bytes:
    """A valid unigram SentencePiece model with exactly vocab_size pieces (pad=0, eos=1, unk=2, as umt5)."""
    from sentencepiece import sentencepiece_model_pb2 as sp

    proto = sp.ModelProto()
    proto.trainer_spec.model_type = sp.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = vocab_size
    proto.trainer_spec.pad_id, proto.trainer_spec.eos_id, proto.trainer_spec.unk_id, proto.trainer_spec.bos_id = 0, 1, 2, -1
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = True
    proto.normalizer_spec.escape_whitespaces = True
    proto.normalizer_spec.remove_extra_whitespaces = True
    for piece, kind in (("<pad>", sp.ModelProto.SentencePiece.CONTROL), ("</s>", sp.ModelProto.SentencePiece.CONTROL), ("<unk>", sp.ModelProto.SentencePiece.UNKNOWN)):
        entry = proto.pieces.add()
        entry.piece, entry.score, entry.type = piece, 0.0, kind
    alphabet = [chr(c) for c in range(33, 127)] + ["\u2581"]
    for ch in alphabet:
        entry = proto.pieces.add()
        entry.piece, entry.score = ch, -5.0
    index = 0
    while len(proto.pieces) < vocab_size:
        entry = proto.pieces.add()
        entry.piece, entry.score = f"\u2581w{index}", -10.0 - index * 1e-6
        index += 1
    return proto.SerializeToString()


def vae_plan() -> dict[str, TensorSpec]:
    import comfy.ldm.wan.vae
    import comfy.sd

    # The same ddconfig comfy.sd.VAE uses for a Wan 2.1 VAE state dict.
    with torch.device("meta"):
        model = comfy.ldm.wan.vae.WanVAE(dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[], temperal_downsample=[False, True, True], dropout=0.0)
    specs = module_specs(model, torch.bfloat16)
    if "decoder.middle.0.residual.0.gamma" not in specs or "decoder.upsamples.0.upsamples.0.residual.2.weight" in specs:
        raise SystemExit("the synthetic VAE would not be detected as the Wan 2.1 VAE")
    return specs


def rife47_plan() -> dict[str, TensorSpec]:
    from vfi_models.rife.rife_arch import IFNet

    with torch.device("meta"):
        model = IFNet(arch_ver="4.7")
    return module_specs(model, torch.float32)


def materialise(specs: dict[str, TensorSpec], device: str, seed: int, payload: bytes | None = None) -> dict[str, torch.Tensor]:
    """Random values that keep activations finite: fp8 weights ~N(0,1) with scale 1/sqrt(fan_in)."""
    generator = torch.Generator(device=device).manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for name, spec in specs.items():
        if spec.kind == "bytes":
            out[name] = torch.frombuffer(bytearray(payload or b""), dtype=torch.uint8).clone()
        elif spec.kind == "marker":
            out[name] = torch.zeros(spec.shape, dtype=spec.dtype)
        elif spec.kind == "scale":
            fan_in = specs[name.removesuffix("scale_weight") + "weight"].shape[-1]
            out[name] = torch.tensor(0.5 / fan_in**0.5, dtype=torch.float32)
        elif spec.kind == "norm":
            out[name] = torch.ones(spec.shape, dtype=spec.dtype)
        else:
            std = 1.0 if spec.dtype == FP8 else 0.02
            values = torch.randn(spec.shape, generator=generator, device=device, dtype=torch.bfloat16) * std
            out[name] = values.clamp_(-8, 8).to(spec.dtype).cpu()
    return out


def plan_bytes(specs: dict[str, TensorSpec]) -> int:
    total = 0
    for spec in specs.values():
        count = 1
        for dim in spec.shape:
            count *= dim
        total += count * spec.dtype.itemsize
    return total


def write_safetensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, str(partial), metadata={"heritage_synthetic": "random values; shapes of the real model"})
    os.replace(partial, path)


def write_torch(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(tensors, str(partial))
    os.replace(partial, path)


def build_plans(comfyui_dir: Path) -> dict[str, tuple[dict[str, TensorSpec], bytes | None]]:
    wan = wan_state_plan()
    lora = lightx2v_lora_plan()
    umt5, tokenizer = umt5_plan(comfyui_dir)
    return {
        "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors": (wan, None),
        "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors": (wan, None),
        "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors": (lora, None),
        "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors": (lora, None),
        "umt5_xxl_fp8_e4m3fn_scaled.safetensors": (umt5, tokenizer),
        "wan_2.1_vae.safetensors": (vae_plan(), None),
        "rife47.pth": (rife47_plan(), None),
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(16 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def synthetic_manifest(manifest: dict, models_dir: Path) -> dict:
    """The manifest with each entry's sha256 and bytes those of the synthetic file (hashed in parallel)."""
    paths = [models_dir / model["folder"] / model["name"] for model in manifest["models"]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(paths)) as pool:
        digests = list(pool.map(sha256_of, paths))
    models = [
        {**model, "sha256": digest, "bytes": path.stat().st_size}
        for model, path, digest in zip(manifest["models"], paths, digests)
    ]
    return {**manifest, "models": models}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True, help="gpu-container/models.json")
    parser.add_argument("--models-dir", type=Path, required=True, help="model root (MODEL_CACHE_DIR)")
    parser.add_argument("--comfyui-dir", type=Path, required=True)
    parser.add_argument("--frame-interpolation-dir", type=Path, required=True)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--plan", action="store_true", help="print the tensor plan and write nothing")
    parser.add_argument("--force", action="store_true", help="rewrite files that already exist")
    parser.add_argument("--only", action="append", default=[], help="write only this model (repeatable)")
    parser.add_argument("--write-manifest", type=Path, help="write the synthetic files' model manifest here")
    args = parser.parse_args()

    import_sources(args.comfyui_dir, args.frame_interpolation_dir)
    manifest = json.loads(args.manifest.read_text())
    plans = build_plans(args.comfyui_dir)
    missing = sorted(set(plans) - {m["name"] for m in manifest["models"]})
    if missing:
        raise SystemExit(f"the manifest lacks {missing}")

    for index, model in enumerate(manifest["models"]):
        name = model["name"]
        if name not in plans:
            raise SystemExit(f"no synthetic plan for manifest model {name}")
        specs, payload = plans[name]
        path = args.models_dir / model["folder"] / name
        size = plan_bytes(specs)
        print(f"{name}: {len(specs)} tensors, {size / 1e9:.3f} GB of tensor data -> {path}", flush=True)
        if args.plan or (args.only and name not in args.only) or (path.exists() and not args.force):
            continue
        started = time.monotonic()
        tensors = materialise(specs, args.device, seed=index, payload=payload)
        (write_torch if name.endswith(".pth") else write_safetensors)(path, tensors)
        print(f"  wrote {path.stat().st_size} bytes in {time.monotonic() - started:.1f} s", flush=True)
    if args.write_manifest is not None and not args.plan:
        started = time.monotonic()
        args.write_manifest.write_text(json.dumps(synthetic_manifest(manifest, args.models_dir), indent=2) + "\n")
        print(f"manifest -> {args.write_manifest} (hashed in {time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
