#!/usr/bin/python3
"""The field's transaction from Python's MySQLdb (python3-mysqldb): begin;
SELECT ... FOR UPDATE a ticket; update it; log it; killed while idle;
update it again; commit. As tests/clients/php/ticket_transaction.php,
whose step lines and outcome it prints, so that one test checks both.

usage: ticket_transaction.py TICKET [none|changed|now|insert-id]
MySQLdb sends text statements (its %s parameters are quoted client-side)
and stores every result (mysql_store_result).
"""
import os
import sys
import time

import MySQLdb


def env(name):
    value = os.environ.get(name)
    if value is None:
        sys.exit("ticket_transaction.py: %s is not set (run under scripts/with-test-server)" % name)
    return value


def connect(user, password):
    return MySQLdb.connect(user=env(user), passwd=env(password), db=env("GONESHIM_TEST_DB"),
                           unix_socket=env("GONESHIM_TEST_SOCKET"), autocommit=True)


def kill_connection(conn_id):
    admin = connect("GONESHIM_TEST_ADMIN_USER", "GONESHIM_TEST_ADMIN_PASSWORD")
    cur = admin.cursor()
    cur.execute("KILL %d" % conn_id)
    for _ in range(200):
        cur.execute("SELECT COUNT(*) FROM information_schema.processlist WHERE id = %d" % conn_id)
        if cur.fetchone()[0] == 0:
            break
        time.sleep(0.005)
    admin.close()


failed_at = None


def step(name, cur, sql, params=None):
    global failed_at
    if failed_at is not None:
        return
    try:
        cur.execute(sql, params)
        cur.fetchall()
        print("%s: ok" % name, flush=True)
    except MySQLdb.MySQLError as e:
        print("%s: error %d" % (name, e.args[0]), flush=True)
        failed_at = name


def main():
    ticket = int(sys.argv[1])
    twist = sys.argv[2] if len(sys.argv) > 2 else "none"
    db = connect("GONESHIM_TEST_USER", "GONESHIM_TEST_PASSWORD")
    conn_id = db.thread_id()
    cur = db.cursor()
    step("begin", cur, "START TRANSACTION")
    step("select for update", cur, "SELECT id, status, version FROM tickets WHERE id = %s FOR UPDATE", (ticket,))
    step("update 1", cur, "UPDATE tickets SET status = 'taken', version = version + 1 WHERE id = %s", (ticket,))
    step("log", cur, "INSERT INTO ticket_log (ticket_id, note) VALUES (%s, 'taken')", (ticket,))
    if twist == "insert-id":
        log_id = cur.lastrowid
        print("log id: %d" % log_id)
        step("log child", cur, "INSERT INTO ticket_log (ticket_id, note, parent_id) VALUES (%s, 'child', %s)",
             (ticket, log_id))
    if twist == "now":
        step("read now", cur, "SELECT NOW(6)")
        time.sleep(0.02)
    kill_connection(conn_id)
    if twist == "changed":
        admin = connect("GONESHIM_TEST_ADMIN_USER", "GONESHIM_TEST_ADMIN_PASSWORD")
        admin.cursor().execute("UPDATE %s.tickets SET version = version + 10 WHERE id = %d"
                               % (env("GONESHIM_TEST_DB"), ticket))
        admin.close()
    step("update 2", cur, "UPDATE tickets SET status = 'done' WHERE id = %s", (ticket,))
    global failed_at
    if failed_at is None:
        try:
            db.commit()
            print("commit: ok")
        except MySQLdb.MySQLError as e:
            print("commit: error %d" % e.args[0])
            failed_at = "commit"
    if failed_at is not None:
        try:
            db.rollback()
            print("rollback: ok")
        except MySQLdb.MySQLError as e:
            print("rollback: error %d" % e.args[0])
        try:
            cur.execute("START TRANSACTION")
            cur.execute("INSERT INTO ticket_log (ticket_id, note) VALUES (%s, 'after')", (ticket,))
            db.commit()
            print("next transaction: ok")
        except MySQLdb.MySQLError as e:
            print("next transaction: error %d" % e.args[0])
    print("outcome=" + ("committed" if failed_at is None else "failed-at:" + failed_at))


if __name__ == "__main__":
    main()
