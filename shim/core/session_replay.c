/* session_replay.c - ordered, keyed list of SET statements to replay. */
#include "session_replay.h"

#include <stdlib.h>
#include <string.h>

static struct replay_entry *unlink_key(struct session_replay *r, const char *key)
{
    for (struct replay_entry **link = &r->head; *link; link = &(*link)->next) {
        struct replay_entry *e = *link;
        if (strcmp(e->key, key) == 0) {
            *link = e->next;
            r->count--;
            return e;
        }
    }
    return NULL;
}

bool session_replay_record(struct session_replay *r, const struct set_assignment *a)
{
    static const char session_prefix[] = "SET SESSION ";
    static const char plain_prefix[] = "SET ";
    const char *prefix = a->form == REPLAY_SET_SESSION ? session_prefix : plain_prefix;
    size_t prefix_len = strlen(prefix);

    free(unlink_key(r, a->key));
    if (r->count >= REPLAY_MAX_ENTRIES)
        return false;

    struct replay_entry *e = malloc(sizeof *e + prefix_len + a->text_len + 1);
    if (e == NULL)
        return false;
    memcpy(e->key, a->key, sizeof e->key);
    e->key[sizeof e->key - 1] = '\0';
    memcpy(e->sql, prefix, prefix_len);
    memcpy(e->sql + prefix_len, a->text, a->text_len);
    e->sql_len = prefix_len + a->text_len;
    e->sql[e->sql_len] = '\0';
    e->next = NULL;

    /* Append: the newest setting is applied last, as it was originally. */
    struct replay_entry **tail = &r->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = e;
    r->count++;
    return true;
}

void session_replay_forget(struct session_replay *r, const char *key)
{
    free(unlink_key(r, key));
}

void session_replay_clear(struct session_replay *r)
{
    struct replay_entry *e = r->head;
    while (e) {
        struct replay_entry *next = e->next;
        free(e);
        e = next;
    }
    r->head = NULL;
    r->count = 0;
}
