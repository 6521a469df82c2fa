/* statement_parsers.h - the few facts the driver reads from the text of a
 * single statement it already knows the class of: which database a USE
 * selects, which connection a KILL targets, whether the insert id of an
 * INSERT is certainly the value the server's LAST_INSERT_ID() now holds.
 *
 * Pure, like the classifier: no I/O, no allocation; the text is (pointer,
 * length) and never read past its end. Each answers conservatively: when
 * the text could mean something else, the answer is "no" or "unknown".
 */
#ifndef GONESHIM_STATEMENT_PARSERS_H
#define GONESHIM_STATEMENT_PARSERS_H

#include <stdbool.h>
#include <stddef.h>

/* The database a `USE name` or `USE \`name\`` statement selects, copied
 * into out (NUL-terminated; *out_len bytes). False for any other shape or
 * a name that does not fit. */
bool parse_use_statement(const char *sql, size_t len, char *out, size_t out_size, size_t *out_len);

/* KILL [HARD|SOFT] [CONNECTION | QUERY [ID]] id, or KILL USER name.
 * *target_known: the target is a literal connection id (*target); else a
 * user or an expression. *query_only: it kills a statement, not a
 * connection. False when the text is not a KILL statement. */
bool parse_kill_statement(const char *sql, size_t len, bool *target_known, unsigned long long *target,
                          bool *query_only);

/* After an INSERT or REPLACE (or a statement with LAST_INSERT_ID(expr))
 * answered with insert id `id` (not 0): is `id` certainly the server's
 * LAST_INSERT_ID() now? The answer carries the id of the first generated
 * row, but also the value the statement gave an AUTO_INCREMENT column
 * itself, which leaves LAST_INSERT_ID() alone. Certain when the text could
 * not have given it: INSERT ... VALUES of plain literals (numbers, strings,
 * NULL, DEFAULT) none of which is `id`, or an UPDATE/SELECT that set it
 * with LAST_INSERT_ID(expr). A trigger that sets the AUTO_INCREMENT column
 * itself is out of sight (a stated limitation). */
bool statement_insert_id_certain(const char *sql, size_t len, unsigned long long id);

#endif
