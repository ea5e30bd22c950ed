#!/bin/sh
exec python3 "$(dirname "$0")/hostile_files.py" "$@"
