#!/bin/sh
# Every public capture with an .oracle.json: the calls greffier indexes match what
# tshark saw (see corpus_oracle.py for the rules and the listed disagreements).
exec python3 "$(dirname "$0")/corpus_oracle.py" "$@"
