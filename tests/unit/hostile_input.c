/* hostile_input.c - see hostile_input.h. */
#include "hostile_input.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "set_statement.h"
#include "statement_class.h"

const struct server_profile test_server = {SERVER_MARIADB, 101119};

static void check_class(const char *sql, size_t len)
{
    struct statement_class c, again;
    classify_statement(sql, len, &test_server, &c);
    classify_statement(sql, len, &test_server, &again);
    cr_assert(c.kind >= STMT_UNKNOWN && c.kind <= STMT_XA_ROLLBACK);
    cr_assert(c.kind == again.kind && c.creates == again.creates && c.releases == again.releases &&
                  c.flags == again.flags && c.retry_safe == again.retry_safe,
              "classify_statement is not deterministic");
    if (c.kind == STMT_WRITE || c.kind == STMT_UNKNOWN || c.kind == STMT_COMMIT)
        cr_assert_not(c.retry_safe);
    cr_assert_eq(c.creates & c.releases, 0u);
    cr_assert_eq(c.creates & ~0x7fu, 0u);
    cr_assert_eq(c.releases & ~STATE_TABLE_LOCKS, 0u);
}

static void check_set(const char *sql, size_t len)
{
    struct set_parse_result r, again;
    parse_set_statement(sql, len, &r);
    parse_set_statement(sql, len, &again);
    cr_assert(r.status == SET_PARSE_OK || r.status == SET_PARSE_NOT_SET ||
              r.status == SET_PARSE_UNRESTORABLE);
    cr_assert(r.status == again.status && r.unrestorable == again.unrestorable && r.n == again.n,
              "parse_set_statement is not deterministic");
    cr_assert_leq(r.n, SET_MAX_ASSIGNMENTS);
    if (r.status != SET_PARSE_OK)
        cr_assert_eq(r.n, 0u);
    if (r.status != SET_PARSE_UNRESTORABLE)
        cr_assert_eq(r.unrestorable, 0u);
    for (unsigned i = 0; i < r.n; i++) {
        const struct set_assignment *a = &r.assignments[i];
        cr_assert(a->text >= sql && a->text_len > 0 && a->text + a->text_len <= sql + len);
        cr_assert(memchr(a->key, '\0', sizeof a->key) != NULL);
        cr_assert_gt(strlen(a->key), 0u);
        for (const char *k = a->key; *k; k++)
            cr_assert(!(*k >= 'A' && *k <= 'Z'), "key not lower case: %s", a->key);
        cr_assert(a->form == REPLAY_SET_SESSION || a->form == REPLAY_SET);
        cr_assert(a->text == again.assignments[i].text && a->text_len == again.assignments[i].text_len);
    }
}

void check_parser_invariants(const char *sql, size_t len)
{
    char *copy = malloc(len != 0 ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, sql, len);
    check_class(copy, len);
    check_set(copy, len);
    free(copy);
}

void check_every_prefix(const char *const *statements, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(statements[i]);
        for (size_t k = 0; k <= n; k++)
            check_parser_invariants(statements[i], k);
    }
}

static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

void check_random_inputs(const struct random_sql *spec)
{
    uint32_t seed = spec->seed;
    size_t prefix_len = spec->prefix ? strlen(spec->prefix) : 0;
    char buf[256];
    for (int input = 0; input < spec->inputs; input++) {
        size_t len = next_random(&seed) % sizeof buf, n = 0;
        bool raw = input % (int)spec->raw_every == 0;
        if (!raw && prefix_len != 0 && len >= prefix_len) {
            memcpy(buf, spec->prefix, prefix_len);
            n = prefix_len;
        }
        while (n < len) {
            if (raw) {
                buf[n++] = (char)next_random(&seed);
                continue;
            }
            const char *p = spec->pieces[next_random(&seed) % spec->piece_count];
            size_t pl = p[0] == '\0' ? 1 : strlen(p);
            if (n + pl > len)
                break;
            memcpy(buf + n, p, pl);
            n += pl;
        }
        check_parser_invariants(buf, n);
    }
}
