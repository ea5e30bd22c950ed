#!/bin/sh
# ondemand.sh - on-demand recording end to end: see ondemand.py.
exec python3 "$(dirname "$0")/ondemand.py" "$@"
