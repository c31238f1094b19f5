"""Points ComfyUI-Frame-Interpolation at the model cache and takes away its downloader.

Usage: python3 seal-frame-interpolation.py PACK_DIR MODEL_ROOT

The pack looks for checkpoints under config.yaml's ckpts_path and, when one is missing, downloads it
from a list of GitHub and Hugging Face URLs with no checksum (vfi_utils.load_file_from_url). In the
Heritage image every model comes from the model bucket, sha256-checked by the worker, so:
  - ckpts_path becomes MODEL_ROOT (the worker's MODEL_CACHE_DIR; RIFE is in MODEL_ROOT/rife/);
  - the one download call becomes an error that names the missing file.
Each replacement must match exactly once, so a new pack commit that moves the code stops the build
instead of leaving a downloader in place.
"""
import pathlib
import re
import sys

DOWNLOAD_CALL = "download_url_to_file(url, cached_file, hash_prefix=None, progress=progress)"
REFUSAL = (
    "raise RuntimeError(f'Heritage: {cached_file} is not in the model cache; this image never downloads "
    "models: list the file in gpu-container/models.json so that the worker provisions it')"
)


def replace_once(path: pathlib.Path, pattern: str, replacement: str, *, regex: bool = False) -> None:
    text = path.read_text()
    count = len(re.findall(pattern, text, flags=re.M)) if regex else text.count(pattern)
    if count != 1:
        sys.exit(f"seal-frame-interpolation: expected one '{pattern}' in {path}, found {count}")
    text = re.sub(pattern, replacement, text, flags=re.M) if regex else text.replace(pattern, replacement)
    path.write_text(text)


def main() -> None:
    pack, model_root = pathlib.Path(sys.argv[1]), sys.argv[2]
    replace_once(pack / "config.yaml", r"^ckpts_path:.*$", f'ckpts_path: "{model_root}"', regex=True)
    replace_once(pack / "vfi_utils.py", DOWNLOAD_CALL, REFUSAL)
    print(f"seal-frame-interpolation: checkpoints from {model_root}, downloads refused")


if __name__ == "__main__":
    main()
