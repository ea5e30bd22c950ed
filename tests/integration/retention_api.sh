#!/bin/sh
exec python3 "$(dirname "$0")/retention_api.py" "$@"
