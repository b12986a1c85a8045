"""`python -m lake_flows run | watch | serve`: the pipeline once, the watcher once, or the
deployments (an hourly pipeline and the watcher every minute) served until Ctrl-C.

Without PREFECT_API_URL the flows run in Prefect's local ephemeral mode; with it, against that
Prefect server (which `serve` needs to schedule the deployments).
"""

from __future__ import annotations

import argparse
import json

from lake_flows.flows import pipeline, watch_sources


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m lake_flows", description=__doc__)
    parser.add_argument("action", choices=["run", "watch", "serve"])
    parser.add_argument("--lake", help="lake root (default: LAKE_ROOT, else ./lake)")
    parser.add_argument(
        "--sources", help="CSV sources (default: LAKE_SOURCES, else data/sources)"
    )
    parser.add_argument("--mongo-url", help="also load MongoDB (lake mongo load)")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="ARG",
        help="an option of `lake silver`, repeatable (e.g. --setting=--as-of=2025-07-01)",
    )
    args = parser.parse_args()
    if args.action == "serve":
        from prefect import serve

        parameters = {
            "lake": args.lake,
            "sources": args.sources,
            "settings": args.setting,
            "mongo_url": args.mongo_url,
        }
        serve(
            pipeline.to_deployment(
                name="hourly", cron="0 * * * *", parameters=parameters
            ),
            watch_sources.to_deployment(
                name="on-new-files", interval=60, parameters=parameters
            ),
        )
        return
    run = pipeline if args.action == "run" else watch_sources
    result = run(
        lake=args.lake,
        sources=args.sources,
        settings=args.setting,
        mongo_url=args.mongo_url,
    )
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
