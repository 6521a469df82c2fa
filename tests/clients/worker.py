#!/usr/bin/python3
"""A naive long-lived queue worker using MySQLdb (python3-mysqldb).

It connects once, keeps its connection object for its whole life and never
reconnects or pings: it shows what the raw client library does when the
server goes away (and what goneshim hides when preloaded).

Connection from GONESHIM_TEST_{SOCKET,HOST,PORT,DB,USER,PASSWORD}.
Prints one line `acked=K errors=E iterations=N`; exit 0 iff E == 0.
"""
import argparse
import os
import sys
import time

import MySQLdb

PROG = os.path.basename(sys.argv[0])


def env(name):
    value = os.environ.get(name)
    if value is None:
        sys.exit("%s: %s is not set (run under scripts/with-test-server)" % (PROG, name))
    return value


def main():
    ap = argparse.ArgumentParser(prog=PROG)
    ap.add_argument("--transport", choices=("socket", "tcp"), default="socket")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--idle-ms", type=int, default=400)
    ap.add_argument("--tag", default="%s-%d" % (PROG, os.getpid()))
    args = ap.parse_args()

    kw = dict(user=env("GONESHIM_TEST_USER"), passwd=env("GONESHIM_TEST_PASSWORD"),
              db=env("GONESHIM_TEST_DB"), autocommit=True)
    if args.transport == "socket":
        kw["unix_socket"] = env("GONESHIM_TEST_SOCKET")
    else:
        kw["host"] = env("GONESHIM_TEST_HOST")
        kw["port"] = int(env("GONESHIM_TEST_PORT"))

    acked = 0
    errors = 0

    def report(where, exc):
        nonlocal errors
        errors += 1
        print("%s: %s: %s" % (PROG, where, exc), file=sys.stderr, flush=True)

    try:
        conn = MySQLdb.connect(**kw)
    except MySQLdb.Error as exc:
        report("connect", exc)
        print("acked=0 errors=%d iterations=0" % errors, flush=True)
        return 1

    try:
        conn.cursor().execute(
            "CREATE TABLE IF NOT EXISTS worker_log ("
            " id BIGINT AUTO_INCREMENT PRIMARY KEY,"
            " tag VARCHAR(64) NOT NULL,"
            " n INT NOT NULL,"
            " KEY (tag)) ENGINE=InnoDB")
    except MySQLdb.Error as exc:
        report("create table", exc)

    done = 0
    for i in range(1, args.iterations + 1):
        where = "iteration %d" % i
        try:
            cur = conn.cursor()
            cur.execute("SELECT CONNECTION_ID()")
            cur.fetchall()
        except MySQLdb.Error as exc:
            report(where, exc)
        try:
            cur = conn.cursor()
            cur.execute("INSERT INTO worker_log (tag, n) VALUES (%s, %s)", (args.tag, i))
            acked += 1
        except MySQLdb.Error as exc:
            report(where, exc)
        done = i
        if args.idle_ms > 0:
            time.sleep(args.idle_ms / 1000.0)

    print("acked=%d errors=%d iterations=%d" % (acked, errors, done), flush=True)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
