#!/bin/sh
exec python3 "$(dirname "$0")/web_search.py" "$@"
