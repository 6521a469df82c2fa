/* The replay list: one entry per setting, in the order last made. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "session_replay.h"

static struct set_assignment assignment(const char *key, const char *text, enum set_replay_form form)
{
    struct set_assignment a = {.text = text, .text_len = strlen(text), .form = form};
    strncpy(a.key, key, sizeof a.key - 1);
    return a;
}

Test(replay, records_replaces_and_keeps_order)
{
    struct session_replay r = {0};
    struct set_assignment a = assignment("sql_mode", "sql_mode = 'A'", REPLAY_SET_SESSION);
    struct set_assignment b = assignment("names", "NAMES latin1", REPLAY_SET);
    struct set_assignment c = assignment("sql_mode", "sql_mode = 'B'", REPLAY_SET_SESSION);
    cr_assert(session_replay_record(&r, &a));
    cr_assert(session_replay_record(&r, &b));
    cr_assert(session_replay_record(&r, &c));
    cr_assert_eq(r.count, 2);
    cr_assert_str_eq(r.head->sql, "SET NAMES latin1");
    cr_assert_str_eq(r.head->next->sql, "SET SESSION sql_mode = 'B'");
    cr_assert_eq(r.head->next->sql_len, strlen("SET SESSION sql_mode = 'B'"));
    session_replay_forget(&r, "names");
    cr_assert_eq(r.count, 1);
    cr_assert_str_eq(r.head->sql, "SET SESSION sql_mode = 'B'");
    session_replay_forget(&r, "absent");
    session_replay_clear(&r);
    cr_assert_null(r.head);
    cr_assert_eq(r.count, 0);
}

Test(replay, bounded_number_of_settings)
{
    struct session_replay r = {0};
    char key[32];
    for (int i = 0; i < REPLAY_MAX_ENTRIES; i++) {
        snprintf(key, sizeof key, "v%d", i);
        struct set_assignment a = assignment(key, "x = 1", REPLAY_SET_SESSION);
        cr_assert(session_replay_record(&r, &a));
    }
    struct set_assignment extra = assignment("one_too_many", "y = 1", REPLAY_SET_SESSION);
    cr_assert_not(session_replay_record(&r, &extra));
    struct set_assignment again = assignment("v3", "v3 = 2", REPLAY_SET_SESSION);
    cr_assert(session_replay_record(&r, &again), "replacing needs no new room");
    cr_assert_eq(r.count, REPLAY_MAX_ENTRIES);
    session_replay_clear(&r);
}
