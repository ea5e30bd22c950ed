#!/bin/sh
exec python3 "$(dirname "$0")/web_api.py" "$@"
