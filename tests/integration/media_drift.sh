#!/bin/sh
exec python3 "$(dirname "$0")/media_drift.py" "$@"
