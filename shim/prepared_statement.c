/* prepared_statement.c - see prepared_statement.h. */
#include "prepared_statement.h"

#include <stdlib.h>
#include <string.h>

#include "event_log.h"

/* Client error codes of the MySQL protocol, used for the errors set here. */
#define CR_SERVER_GONE_ERROR 2006

bool prepared_statement_record(struct prepared_statement *p, const struct managed_session *s, const char *sql,
                               size_t len)
{
    if (len + 1 > p->capacity) {
        char *bigger = realloc(p->sql, len + 1);
        if (bigger == NULL)
            return false;
        p->sql = bigger;
        p->capacity = len + 1;
    }
    memcpy(p->sql, sql, len);
    p->sql[len] = '\0';
    p->len = len;
    classify_statement(sql, len, &p->class);
    p->generation = s->generation;
    p->long_data_sent = false;
    return true;
}

void prepared_statement_forget(struct prepared_statement *p)
{
    free(p->sql);
    memset(p, 0, sizeof *p);
}

struct execute_call {
    struct managed_session *s;
    struct prepared_statement *p;
    const struct statement_ops *ops;
    void *stmt;
    bool reached_library; /* the statement itself carries the error */
};

/* The real call driver_run makes, and makes again for a retry: a statement
 * of an older connection is prepared again first. */
static int execute_call(void *conn, const void *arg)
{
    (void)conn;
    struct execute_call *x = (struct execute_call *)arg;
    x->reached_library = true;
    if (prepared_statement_stale(x->p, x->s)) {
        if (x->p->long_data_sent) {
            x->ops->set_error(x->stmt, CR_SERVER_GONE_ERROR,
                              "goneshim: the connection was lost after mysql_stmt_send_long_data; the long "
                              "data cannot be sent again: send it again, then execute");
            x->p->long_data_sent = false;
            return 1;
        }
        if (!x->ops->prepare_again(x->stmt, x->p->sql, x->p->len))
            return 1;
        x->p->generation = x->s->generation;
        driver_log(x->stmt, "prepared again on the new connection: \"%.100s\"", x->p->sql);
    }
    return x->ops->execute(x->stmt) ? 0 : 1;
}

int driver_execute_prepared(struct managed_session *s, void *conn, struct prepared_statement *p,
                            const struct statement_ops *ops, void *stmt)
{
    struct execute_call x = {s, p, ops, stmt, false};
    int rc = driver_run(s, conn, &p->class, execute_call, &x);
    if (rc == 0) {
        p->long_data_sent = false;
    } else if (!x.reached_library || ops->error_code(stmt) == 0) {
        struct error_snapshot err;
        s->ops->save_error(conn, &err);
        ops->set_error(stmt, err.code, err.message);
    }
    return rc;
}
