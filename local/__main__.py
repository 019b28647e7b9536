"""python -m local demo | serve [--port N] [--start ISO]"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "layers" / "shared" / "python")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="play the bundled scenario and print the timeline")
    serve = sub.add_parser("serve", help="run the local stack until interrupted")
    serve.add_argument("--port", type=int, default=4566)
    serve.add_argument("--start", default=None, help="virtual start time (ISO, UTC)")
    args = parser.parse_args()
    if args.command == "demo":
        from .demo import run_demo

        run_demo()
        return
    from .stack import LocalStack

    start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC).replace(microsecond=0)
    stack = LocalStack(start, api_port=args.port).start()
    print(f"local stack on {stack.url}  (virtual clock at {stack.clock.now():%Y-%m-%d %H:%M}Z)")
    print(f"  webhook   POST {stack.url}/v1/practices/<practice_id>/events (signed)")
    print(f'  clock     POST {stack.url}/_local/clock  {{"advance": seconds}}')
    print(f"  outbox    GET  {stack.url}/_local/outbox")
    print(
        "  onboard   AWS_ENDPOINT_URL={} TABLE_NAME={} python -m ops.practice onboard ...".format(
            f"http://127.0.0.1:{stack.moto.get_host_and_port()[1]}", stack.table_name
        )
    )
    try:
        import threading

        threading.Event().wait()
    except KeyboardInterrupt:
        stack.stop()


if __name__ == "__main__":
    main()
