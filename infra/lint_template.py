"""Lint the synthesised template with cfn-lint and checkov; fail on any finding that
infra/accepted_checks.yaml does not list with its reason. Prints the figures.

Usage: python infra/lint_template.py [cdk.out/PatientNotify.template.json]
(run with the lint environment's Python: `make lint`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main() -> int:
    template = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "cdk.out" / "PatientNotify.template.json")
    accepted = yaml.safe_load((ROOT / "infra" / "accepted_checks.yaml").read_text())
    failed = False

    lint = subprocess.run([str(BIN / "cfn-lint"), "--format", "json", template], capture_output=True, text=True)
    findings = json.loads(lint.stdout or "[]")
    levels = Counter(f["Level"] for f in findings)
    unaccepted = [f for f in findings if f["Rule"]["Id"] not in accepted["cfn-lint"]]
    print(
        f"cfn-lint: {levels.get('Error', 0)} errors, {levels.get('Warning', 0)} warnings "
        f"({', '.join(sorted({f['Rule']['Id'] for f in findings})) or 'none'}), "
        f"{len(unaccepted)} not accepted"
    )
    for finding in unaccepted:
        print(f"  {finding['Rule']['Id']} {finding['Message']}")
        failed = True

    run = subprocess.run(
        [
            str(BIN / "checkov"),
            "-f",
            template,
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    report = json.loads(run.stdout)
    report = report[0] if isinstance(report, list) else report
    fails = report["results"]["failed_checks"]
    unaccepted = [f for f in fails if f["check_id"] not in accepted["checkov"]]
    by_check = Counter(f["check_id"] for f in fails)
    summary = report["summary"]
    print(
        f"checkov: {summary['passed']} passed, {summary['failed']} failed, of which "
        f"{summary['failed'] - len(unaccepted)} accepted "
        f"({', '.join(f'{k} x{v}' for k, v in sorted(by_check.items()))}), "
        f"{len(unaccepted)} not accepted"
    )
    for finding in unaccepted:
        print(f"  {finding['check_id']} {finding['check_name']}: {finding['resource']}")
        failed = True
    stale = (set(accepted["checkov"]) - set(by_check)) | (
        set(accepted["cfn-lint"]) - {f["Rule"]["Id"] for f in findings}
    )
    if stale:
        print(f"accepted but no longer found (remove from the list): {sorted(stale)}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
