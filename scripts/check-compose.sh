#!/usr/bin/env bash
# Validates compose/docker-compose.yml: with `docker compose config` where the Docker Compose
# plugin exists, else with compose/check (compose-go, the library that command is built on,
# plus checks of build contexts, Dockerfiles and healthcheck dependencies). No Docker engine
# is needed for either.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=compose/docker-compose.yml
if docker compose version >/dev/null 2>&1; then
  docker compose -f "$FILE" --profile cli config --quiet
  echo "compose: $FILE is valid (docker compose config)"
else
  (cd compose/check && go run . "../docker-compose.yml" >/dev/null)
  echo "compose: $FILE is valid (compose-go; the Docker Compose plugin is not installed)"
fi
