#!/bin/sh
# Functions banned from greffier's C code (STYLE.md rule 11): unbounded copies,
# static-buffer tokenisers, unchecked conversions, predictable randomness.
cd "$(dirname "$0")/.." || exit 2
hits=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strncpy|strtok|gets|atoi|rand)[[:space:]]*\(' \
    $(find src include tests -name '*.[ch]') 2>/dev/null | grep -vE '(snprintf|vsnprintf)\(' )
if [ -n "$hits" ]; then
    echo "banned functions used:"
    echo "$hits"
    exit 1
fi
exit 0
