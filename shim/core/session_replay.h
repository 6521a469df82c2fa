/* session_replay.h - the session settings a reconnect applies again.
 *
 * One list per handle, in the order the settings were last made, one entry
 * per setting (key): a later `SET sql_mode` replaces the earlier one, so the
 * list is bounded by the number of distinct variables, not by how often a
 * program sets them. It allocates, but only when a SET succeeds, never on
 * the statement hot path.
 */
#ifndef GONESHIM_SESSION_REPLAY_H
#define GONESHIM_SESSION_REPLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "set_statement.h"

#define REPLAY_MAX_ENTRIES 64

struct replay_entry {
    struct replay_entry *next;
    char key[SET_KEY_MAX];
    size_t sql_len;
    char sql[]; /* the complete statement to send, NUL-terminated */
};

struct session_replay {
    struct replay_entry *head;
    unsigned count;
};

/* Records one assignment (replacing any with the same key). Returns false
 * when it cannot (out of memory, more than REPLAY_MAX_ENTRIES settings):
 * the caller must then treat the session as unrestorable. */
bool session_replay_record(struct session_replay *r, const struct set_assignment *a);

/* Forgets a setting that the client library restores by itself. */
void session_replay_forget(struct session_replay *r, const char *key);

void session_replay_clear(struct session_replay *r);

#endif
