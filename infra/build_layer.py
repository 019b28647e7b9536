"""Build the shared layer without Docker: aarch64 wheels for Lambda's arm64 runtime.

Usage: python infra/build_layer.py [--python-version 3.13]
boto3 stays out (the runtime provides it).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python-version", default="3.14")
    args = parser.parse_args()
    if OUT.parent.exists():
        shutil.rmtree(OUT.parent)
    OUT.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(OUT), "--platform", "manylinux2014_aarch64", "--implementation", "cp",
         "--only-binary=:all:", "--python-version", args.python_version,
         "-r", str(ROOT / "requirements.txt")],
        check=True,
    )
    shutil.copytree(ROOT / "layers" / "shared" / "python" / "notify", OUT / "notify",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for junk in [*OUT.glob("*.dist-info"), *(OUT / name for name in RUNTIME_PROVIDED)]:
        if junk.exists():
            shutil.rmtree(junk) if junk.is_dir() else junk.unlink()
    _prune_babel_locales(OUT / "babel" / "locale-data")
    size = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"layer built in {OUT.parent} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
