/*
 * call_names.c - the text names of the call model's enums.
 *
 * These names are a contract: they are stored in the index (the CHECK constraint of
 * calls.status in schema.c lists the same words), printed by `greffier calls`, and
 * returned by the JSON API.  Renaming one needs a schema migration.
 */
#include <strings.h>

#include "greffier/call.h"

static const char *const status_names[] = {
    [CALL_IN_PROGRESS] = "in_progress", [CALL_ANSWERED] = "answered",
    [CALL_CANCELLED] = "cancelled",     [CALL_BUSY] = "busy",
    [CALL_REJECTED] = "rejected",       [CALL_FAILED] = "failed",
    [CALL_TIMEOUT] = "timeout",
};

static const char *const direction_names[] = {
    [DIR_UNKNOWN] = "unknown",
    [DIR_INBOUND] = "inbound",
    [DIR_OUTBOUND] = "outbound",
    [DIR_INTERNAL] = "internal",
};

static const char *const end_reason_names[] = {
    [END_NONE] = "none",
    [END_BYE] = "bye",
    [END_FINAL_RESPONSE] = "final_response",
    [END_TIMEOUT] = "timeout",
    [END_INTERRUPTED] = "interrupted",
};

static const char *const transport_names[] = {
    [TRANSPORT_UDP] = "udp",
    [TRANSPORT_TCP] = "tcp",
    [TRANSPORT_SCTP] = "sctp",
    [TRANSPORT_WS] = "ws",
};

#define NAME_OF(table, v)                                                                          \
    ((unsigned)(v) < sizeof(table) / sizeof((table)[0]) && (table)[(unsigned)(v)]                  \
         ? (table)[(unsigned)(v)]                                                                  \
         : "invalid")

/* Out-of-range values (a corrupted struct) read "invalid", never NULL, so they can be
 * printed; the index refuses them through its CHECK constraint. */
const char *call_status_name(enum call_status s)
{
    return NAME_OF(status_names, s);
}

const char *call_direction_name(enum call_direction d)
{
    return NAME_OF(direction_names, d);
}

const char *call_end_reason_name(enum call_end_reason r)
{
    return NAME_OF(end_reason_names, r);
}

const char *sip_transport_name(enum sip_transport t)
{
    return NAME_OF(transport_names, t);
}

/* For user input (`calls --status`): case does not matter. */
bool call_status_parse(const char *name, enum call_status *out)
{
    if (!name)
        return false;
    for (unsigned i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (strcasecmp(name, status_names[i]) == 0) {
            *out = (enum call_status)i;
            return true;
        }
    }
    return false;
}

bool call_direction_parse(const char *name, enum call_direction *out)
{
    if (!name)
        return false;
    for (unsigned i = 0; i < sizeof(direction_names) / sizeof(direction_names[0]); i++) {
        if (strcasecmp(name, direction_names[i]) == 0) {
            *out = (enum call_direction)i;
            return true;
        }
    }
    return false;
}
