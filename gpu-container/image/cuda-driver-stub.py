"""Writes a link-time stub of the CUDA driver library (libcuda.so, soname libcuda.so.1).

Usage: python3 cuda-driver-stub.py CUDA_H OUT_DIR

SageAttention's Hopper kernels call the driver API (cuTensorMapEncodeTiled) and link with -lcuda.
The driver is not part of the build: the NVIDIA container runtime mounts the host's libcuda.so.1
into the running container. NVIDIA's CUDA toolkit ships a stub for linking (lib64/stubs/libcuda.so);
the CUDA wheels the build uses do not, so this writes one: every driver function that cuda.h declares
(and the versioned names its macros map them to), each returning an error. Only the soname ends up in
the built extension; at run time the host's driver answers.
"""
import pathlib
import re
import subprocess
import sys


def driver_functions(header: str) -> list[str]:
    declared = re.findall(r"^\s*CUresult\s+CUDAAPI\s+(cu\w+)\s*\(", header, flags=re.M)
    versioned = re.findall(r"^\s*#\s*define\s+cu\w+\s+(cu\w+_v\d+)\b", header, flags=re.M)
    return sorted(set(declared) | set(versioned))


def main() -> None:
    header, out_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    names = driver_functions(header.read_text())
    if "cuTensorMapEncodeTiled" not in names:
        sys.exit(f"cuda-driver-stub: {header} does not declare cuTensorMapEncodeTiled; is it the driver API header?")
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / "libcuda-stub.c"
    # 999 is CUDA_ERROR_UNKNOWN: a stub that is ever called fails loudly.
    source.write_text("".join(f"int {name}(void) {{ return 999; }}\n" for name in names))
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-Wl,-soname,libcuda.so.1", "-o", str(out_dir / "libcuda.so"), str(source)],
        check=True,
    )
    print(f"cuda-driver-stub: {len(names)} functions -> {out_dir / 'libcuda.so'}")


if __name__ == "__main__":
    main()
