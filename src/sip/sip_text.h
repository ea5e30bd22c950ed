/*
 * sip_text.h - private to the SIP stage: text facts shared by framing and parsing.
 */
#ifndef GREFFIER_SIP_TEXT_H
#define GREFFIER_SIP_TEXT_H

#include <stddef.h>

#include "greffier/span.h"

/* Length of the header block including its empty line ("\r\n\r\n", a bare "\n\n"
 * tolerated), or 0 when the block is not complete (RFC 3261 §7). */
static inline size_t sip_header_block_len(struct span s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] != '\n')
            continue;
        if (i + 1 < s.len && s.p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < s.len && s.p[i + 1] == '\r' && s.p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

#endif
