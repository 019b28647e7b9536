"""Where the Lambda code and the layer come from (no Docker).

Each function's asset is a staged folder holding `functions/<name>/`, so the handler
string on AWS (`functions.<name>.handler.lambda_handler`) is the import path in tests.
The layer is built by `infra/build_layer.py` (Makefile target `layer`) into build/layer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
LAYER_DIR = BUILD / "layer"


def stage_function(name: str) -> Path:
    """Copy functions/<name> into build/functions/<name>/functions/<name>."""
    source = ROOT / "functions" / name
    if not (source / "handler.py").exists():
        raise FileNotFoundError(f"no handler for function {name}")
    target = BUILD / "functions" / name
    if target.exists():
        shutil.rmtree(target)
    package = target / "functions"
    shutil.copytree(source, package / name, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__init__.py").write_text("")
    return target


def layer_dir() -> Path:
    if not (LAYER_DIR / "python" / "notify").is_dir():
        raise FileNotFoundError("build/layer is missing: run `make layer` first")
    return LAYER_DIR
