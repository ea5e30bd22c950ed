/*
 * route_annotations.c - tags and notes on a call, and the alarms banner's source:
 *
 *   POST   /api/calls/{id}/tags          {"tag": "..."}     supervisor, auditor
 *   DELETE /api/calls/{id}/tags/{tag}                        supervisor, auditor
 *   POST   /api/calls/{id}/notes         {"text": "..."}    supervisor, auditor
 *   DELETE /api/calls/{id}/notes/{note}                      its author; an admin any
 *   GET    /api/alarms                                       any role
 *
 * A tag is [A-Za-z0-9_.-]{1,31}, the rules' charset, so that it reads the same in a URL,
 * a page and the search index; a note is UTF-8 text without control characters
 * (index_note_valid).  Every change is audited with what was added or removed: the
 * trail keeps a deleted note's text, the index does not.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/alarm.h"
#include "greffier/index.h"
#include "http_int.h"

static enum MHD_Result no_call(struct http_req *rq)
{
    return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no call with this id", NULL);
}

static enum MHD_Result internal(struct http_req *rq)
{
    return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                            "the index could not be written (see the server log)", NULL);
}

static enum MHD_Result ok(struct http_req *rq, unsigned status, const char *json)
{
    size_t n = strlen(json);
    char *body = malloc(n + 1);
    if (!body)
        return MHD_NO;
    memcpy(body, json, n + 1);
    return http_reply_json(rq, status, body, n);
}

/* Reads the one string member key of the body into out; a reply was queued (and *res
 * set) when it returns false. */
static bool body_member(struct http_req *rq, const char *key, char *out, size_t outsize,
                        size_t *outlen, enum MHD_Result *res)
{
    int r = json_body_string(rq->body, rq->body_len, key, out, outsize, outlen);
    if (r == 1)
        return true;
    char msg[96];
    snprintf(msg, sizeof(msg),
             r == 0 ? "the body needs a \"%s\" member"
                    : "the body is not a JSON object of strings, or \"%s\" is too long",
             key);
    *res = http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_body", msg, key);
    return false;
}

static void id_text(const struct http_req *rq, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRId64, rq->id);
}

/* Under the index lock. */
static int locked_tag(struct http_req *rq, const char *tag, bool add)
{
    pthread_mutex_lock(&rq->srv->db_lock);
    int r =
        add ? index_tag_add(rq->srv->ix, rq->id, tag) : index_tag_remove(rq->srv->ix, rq->id, tag);
    pthread_mutex_unlock(&rq->srv->db_lock);
    return r;
}

static enum MHD_Result bad_tag(struct http_req *rq)
{
    return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_tag",
                            "a tag is 1 to 31 letters, digits, '_', '-' or '.'", "tag");
}

enum MHD_Result route_tag_add(struct http_req *rq)
{
    char tag[INDEX_TAG_MAX + 2], target[24];
    size_t len;
    enum MHD_Result res;
    if (!body_member(rq, "tag", tag, sizeof(tag), &len, &res))
        return res;
    if (len != strlen(tag) || !index_tag_valid(tag))
        return bad_tag(rq);
    int r = locked_tag(rq, tag, true);
    if (r == -2)
        return no_call(rq);
    if (r < 0)
        return internal(rq);
    id_text(rq, target, sizeof(target));
    if (r == 1)
        http_audit(rq, rq->sess.user, "tag.add", target, "tag", tag, AUDIT_END);
    return ok(rq, r == 1 ? MHD_HTTP_CREATED : MHD_HTTP_OK,
              r == 1 ? "{\"status\":\"added\"}" : "{\"status\":\"already_there\"}");
}

enum MHD_Result route_tag_remove(struct http_req *rq)
{
    char target[24];
    if (!index_tag_valid(rq->arg))
        return bad_tag(rq);
    int r = locked_tag(rq, rq->arg, false);
    if (r == -2)
        return no_call(rq);
    if (r < 0)
        return internal(rq);
    if (r == 0)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "no_tag", "the call has no such tag",
                                "tag");
    id_text(rq, target, sizeof(target));
    http_audit(rq, rq->sess.user, "tag.remove", target, "tag", rq->arg, AUDIT_END);
    return ok(rq, MHD_HTTP_OK, "{\"status\":\"removed\"}");
}

enum MHD_Result route_note_add(struct http_req *rq)
{
    char *text = malloc(INDEX_NOTE_MAX + 2), target[24], note_id[24];
    size_t len;
    enum MHD_Result res;
    if (!text)
        return MHD_NO;
    if (!body_member(rq, "text", text, INDEX_NOTE_MAX + 2, &len, &res)) {
        free(text);
        return res;
    }
    if (!index_note_valid(text, len)) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_note",
                                "a note is 1 to 4000 bytes of UTF-8 text, without control "
                                "characters other than tab and newline",
                                "text");
    }
    pthread_mutex_lock(&rq->srv->db_lock);
    int64_t id = index_note_add(rq->srv->ix, rq->id, rq->sess.user, text, len);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (id > 0) {
        id_text(rq, target, sizeof(target));
        snprintf(note_id, sizeof(note_id), "%" PRId64, id);
        http_audit(rq, rq->sess.user, "note.add", target, "note", note_id, "text", text, AUDIT_END);
    }
    free(text);
    if (id == -2)
        return no_call(rq);
    if (id < 0)
        return internal(rq);
    char body[64];
    snprintf(body, sizeof(body), "{\"id\":%" PRId64 "}", id);
    return ok(rq, MHD_HTTP_CREATED, body);
}

enum MHD_Result route_note_remove(struct http_req *rq)
{
    char target[24];
    int64_t note = 0;
    const char *p = rq->arg;
    for (size_t i = 0; i < rq->arg_len; i++) {
        if (p[i] < '0' || p[i] > '9' || i >= 18) {
            note = 0;
            break;
        }
        note = note * 10 + (p[i] - '0');
    }
    if (note <= 0)
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_id",
                                "a note id is a positive decimal number", "note");
    pthread_mutex_lock(&rq->srv->db_lock);
    int r =
        index_note_remove(rq->srv->ix, rq->id, note, rq->sess.user, rq->sess.role == ROLE_ADMIN);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (r == -2)
        return no_call(rq);
    if (r == -3)
        return http_reply_error(rq, MHD_HTTP_FORBIDDEN, "not_author",
                                "only the note's author (or an admin) may delete it", NULL);
    if (r < 0)
        return internal(rq);
    if (r == 0)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "no_note", "the call has no such note",
                                "note");
    id_text(rq, target, sizeof(target));
    http_audit(rq, rq->sess.user, "note.remove", target, "note", rq->arg, AUDIT_END);
    return ok(rq, MHD_HTTP_OK, "{\"status\":\"removed\"}");
}

enum MHD_Result route_alarms(struct http_req *rq)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    pthread_mutex_lock(&rq->srv->db_lock);
    long n = alarm_list_json(rq->srv->ix, m);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (fclose(m) != 0 || n < 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the alarms could not be read", NULL);
    }
    return http_reply_json(rq, MHD_HTTP_OK, text, len);
}
