"""Build the shared layer without Docker: aarch64 wheels for Lambda's arm64 runtime.

Usage: python infra/build_layer.py [--python-version 3.13]
boto3 stays out (the runtime provides it).

Lambda cannot write __pycache__ under /opt, so a layer without bytecode is compiled again
on every cold start. When an interpreter of the runtime's version is found
(LAYER_BYTECODE_PYTHON, python3.13 on PATH, or pyenv's versions), the layer ships
unchecked-hash .pyc files; otherwise it ships source only and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from infra.lambda_python import VERSION  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "layer" / "python"
# Lambda's Python runtime ships these; pynamodb pulls botocore in as a dependency.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
KEEP_LOCALES = ("root", "en", "pl", "fr")


def _prune_babel_locales(folder: Path) -> None:
    """Keep the CLDR data of the languages we have templates for (33 MB -> ~1 MB)."""
    for data in folder.glob("*.dat"):
        if data.stem.split("_")[0] not in KEEP_LOCALES:
            data.unlink()


def _interpreter(version: str) -> str | None:
    """An interpreter of exactly `version` on this machine, or None."""
    candidates = [
        os.environ.get("LAYER_BYTECODE_PYTHON"),
        shutil.which(f"python{version}"),
        *map(str, sorted(Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}"))),
    ]
    probe = f"import sys; sys.exit(sys.version_info[:2] != {tuple(map(int, version.split('.')))})"
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", probe], capture_output=True).returncode == 0:
            return candidate
    return None


def _compile(version: str) -> str:
    python = _interpreter(version)
    if python is None:
        return f"source only: no Python {version} here to precompile with (LAYER_BYTECODE_PYTHON)"
    subprocess.run(
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(OUT)],
        check=True,
    )
    return f"bytecode for Python {version}: {sum(1 for _ in OUT.rglob('*.pyc'))} .pyc"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python-version", default=VERSION)
    args = parser.parse_args()
    if OUT.parent.exists():
        shutil.rmtree(OUT.parent)
    OUT.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(OUT),
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "--python-version",
            args.python_version,
            "--no-compile",
            "-r",
            str(ROOT / "requirements.txt"),
        ],
        check=True,
    )
    shutil.copytree(
        ROOT / "layers" / "shared" / "python" / "notify",
        OUT / "notify",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for junk in [*OUT.glob("*.dist-info"), *(OUT / name for name in RUNTIME_PROVIDED)]:
        if junk.exists():
            shutil.rmtree(junk) if junk.is_dir() else junk.unlink()
    _prune_babel_locales(OUT / "babel" / "locale-data")
    compiled = _compile(args.python_version)
    size = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"layer built in {OUT.parent} ({size / 1e6:.1f} MB), {compiled}")


if __name__ == "__main__":
    main()
