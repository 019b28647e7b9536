"""CDK app entry: `cdk synth` (cdk.json) or `python infra/app.py` with CDK_OUTDIR."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The stack reads the layer's key shapes and statuses (one source of truth).
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared" / "python")]

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.stack import NotificationStack  # noqa: E402


def build_app(outdir: str | None = None) -> tuple[cdk.App, NotificationStack]:
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    stack = NotificationStack(app, "PatientNotify")
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack


if __name__ == "__main__":
    build_app()[0].synth()
