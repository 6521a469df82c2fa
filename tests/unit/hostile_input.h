/* hostile_input.h - the invariants both SQL parsers keep on any input, and
 * the ways the unit tests feed them hostile input (every prefix of tricky
 * statements; seeded pseudo-random token soup and raw bytes). Shared so
 * that classify_statement and parse_set_statement are held to one set of
 * rules, each test file bringing only its own inputs. */
#ifndef GONESHIM_TEST_HOSTILE_INPUT_H
#define GONESHIM_TEST_HOSTILE_INPUT_H

#include <stddef.h>

#include "server_profile.h"

/* The server the unit tests classify for: the one CI runs. */
extern const struct server_profile test_server;
#include <stdint.h>

/* Runs both parsers on a heap copy of exactly `len` bytes (so ASan reports
 * any read past it) and checks their invariants: valid, deterministic,
 * internally consistent results, assignment texts inside the input. */
void check_parser_invariants(const char *sql, size_t len);

/* check_parser_invariants on every prefix of every statement. */
void check_every_prefix(const char *const *statements, size_t count);

struct random_sql {
    const char *const *pieces; /* tokens to glue together ("\0" is one NUL byte) */
    size_t piece_count;
    const char *prefix;        /* starts every token-soup input, or NULL */
    unsigned raw_every;        /* every Nth input is raw random bytes */
    uint32_t seed;
    int inputs;
};

void check_random_inputs(const struct random_sql *spec);

#endif
