"""Prefect flows driving the `lake` command: see `lake_flows.flows`."""
