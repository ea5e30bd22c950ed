#!/bin/sh
# rules_api.sh - GET /api/rules and /api/rules/explain against `greffier rules explain`
# (see rules_api.py).  Environment: GREFFIER_BIN, TEST_OUT.
exec python3 "$(dirname "$0")/rules_api.py" "$@"
