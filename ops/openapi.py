"""Write the practice API's OpenAPI document (docs/api/openapi.json):

    python -m ops.openapi > docs/api/openapi.json      (make openapi)

tests/unit/test_openapi.py fails while the committed copy differs from this."""

from __future__ import annotations

import json
import sys


def render() -> str:
    from notify.api.openapi import document

    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
