#!/usr/bin/env bash
# Validates compose/docker-compose.yml without a Docker engine: `docker compose config` where the
# Docker Compose plugin exists, and compose/check (compose-go, the library that command is built
# on) where Go is installed, which also checks build contexts and Dockerfiles, that every
# `service_healthy` dependency has a healthcheck, that no two services publish one host port,
# and that every service the README's compose table names exists.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=compose/docker-compose.yml
checked=0
if docker compose version >/dev/null 2>&1; then
  docker compose -f "$FILE" --profile '*' config --quiet
  echo "compose: $FILE is valid (docker compose config)"
  checked=1
fi
if command -v go >/dev/null 2>&1; then
  (cd compose/check && go run . -readme ../../README.md "../docker-compose.yml" >/dev/null)
  echo "compose: $FILE is valid, its ports unique and the README's services defined (compose-go)"
  checked=1
fi
if [ "$checked" = 0 ]; then
  echo "compose: neither the Docker Compose plugin nor Go is installed: cannot check $FILE" >&2
  exit 1
fi
