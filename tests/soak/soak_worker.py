#!/usr/bin/python3
"""The Python MySQLdb stack of the chaos soak (tests/soak/run-soak).

A worker as an application would write it with python3-mysqldb, run for a
fixed time while a killer KILLs sleeping connections. The same workload
and output protocol as soak_worker.c and soak_worker.php (see there), so
that the driver can compare goneshim (--mode shim), the library's own
auto-reconnect (--mode reconnect: MySQLdb's ping(True)) and a worker
restarted by its supervisor after each lost connection (--mode none).

usage: soak_worker.py --mode shim|reconnect|none --worker N
         --transport socket|tcp --seconds D --idle-ms I --txn-idle-ms T
         [--seed S]
stdout, one flushed line per event: `ack T|I <seq>`, `read <seq>`,
`tolerated <code>`, `error in|out <code> <msg>`, `rollback-failed <code>`,
`done <seq>`. Exit 0 when the time is up (errors are the data), 1 if it
never connected, 2 on a usage error.
"""
import os
import random
import re
import sys
import time

import MySQLdb

PROG = os.path.basename(sys.argv[0])
STACK = "python"
LOST = {2006, 2013, 2055, 1927, 4031, 1053, 2002, 2003}

# name -> (allowed words) or (min, max) of an integer
OPTIONS = {
    "mode": ("shim", "reconnect", "none"),
    "worker": (0, 2**31 - 1),
    "transport": ("socket", "tcp"),
    "seconds": (1, 1000000),
    "idle-ms": (0, 3600000),
    "txn-idle-ms": (0, 3600000),
    "seed": (0, 2**32 - 1),
}
REQUIRED = ("mode", "worker", "transport", "seconds", "idle-ms", "txn-idle-ms")


def usage_error(message):
    print("%s: %s" % (PROG, message), file=sys.stderr, flush=True)
    sys.exit(2)


def number(what, text, low, high):
    # Digits only: int() would also take blanks, signs and underscores.
    if not re.fullmatch(r"[0-9]{1,12}", text) or not low <= int(text) <= high:
        usage_error("bad value for %s: '%s' (an integer from %d to %d)" % (what, text, low, high))
    return int(text)


def parse_args(argv):
    got = {}
    for i in range(0, len(argv), 2):
        name = argv[i]
        key = name[2:] if name.startswith("--") else None
        if key not in OPTIONS:
            usage_error("unknown option '%s'" % name)
        if i + 1 >= len(argv):
            usage_error("%s needs a value" % name)
        value = argv[i + 1]
        spec = OPTIONS[key]
        if isinstance(spec[0], str):
            if value not in spec:
                usage_error("bad value for %s: '%s' (%s or %s)" % (name, value, ", ".join(spec[:-1]), spec[-1]))
            got[key] = value
        else:
            got[key] = number(name, value, *spec)
    for key in REQUIRED:
        if key not in got:
            usage_error("missing --%s" % key)
    return got


def env(name):
    value = os.environ.get(name)
    if value is None:
        usage_error("%s is not set (run under scripts/with-test-server)" % name)
    return value


def emit(line):
    # Flushed at once: the driver reads the file even after killing us.
    print(line, flush=True)


def failure(exc):
    """(code, message on one line) of a MySQLdb error."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return code, " ".join(message.splitlines())


class Worker:
    def __init__(self, opts):
        self.mode = opts["mode"]
        self.id = opts["worker"]
        self.seconds = opts["seconds"]
        self.idle_ms = opts["idle-ms"]
        self.txn_idle_ms = opts["txn-idle-ms"]
        self.rng = random.Random(opts.get("seed", os.getpid()))
        if opts["transport"] == "socket":
            self.kw = dict(unix_socket=env("GONESHIM_TEST_SOCKET"))
        else:
            self.kw = dict(host=env("GONESHIM_TEST_HOST"),
                           port=number("GONESHIM_TEST_PORT", env("GONESHIM_TEST_PORT"), 1, 65535))
        self.kw.update(db=env("GONESHIM_TEST_DB"), user=env("GONESHIM_TEST_USER"),
                       passwd=env("GONESHIM_TEST_PASSWORD"), autocommit=True)
        self.deadline = None
        self.conn = None

    def connect_once(self):
        try:
            conn = MySQLdb.connect(**self.kw)
            if self.mode == "reconnect":
                # MySQLdb 1.4 sets MYSQL_OPT_RECONNECT on the handle for
                # ping(True): the library's own reconnect, the one that
                # splits transactions.
                conn.ping(True)
            return conn
        except MySQLdb.Error as exc:
            emit("error out %d %s" % failure(exc))
            return None

    def connect_until_deadline(self):
        """Every 100 ms until connected or the time is up."""
        while True:
            conn = self.connect_once()
            if conn is not None or time.monotonic() >= self.deadline:
                return conn
            time.sleep(0.1)

    def recover(self):
        """Mode none only: what a supervisor restarting a crashed worker
        amounts to. In the other modes the worker keeps its one connection
        for life: that is what the soak measures."""
        if self.mode != "none":
            return
        try:
            self.conn.close()
        except MySQLdb.Error:
            pass
        self.conn = self.connect_until_deadline()

    def execute(self, sql, args=None):
        cur = self.conn.cursor()
        try:
            cur.execute(sql, args)
            return cur.fetchall()
        finally:
            cur.close()

    def insert(self, kind, seq, part):
        self.execute("INSERT INTO soak_rows (mode, stack, worker, kind, seq, part)"
                     " VALUES (%s, %s, %s, %s, %s, %s)", (self.mode, STACK, self.id, kind, seq, part))

    def jittered(self, ms):
        """Uniform in [ms/2, 3ms/2]: pauses that drift against the killer's period."""
        return self.rng.randint(ms // 2, ms + ms // 2)

    def transaction_job(self, seq):
        try:
            self.execute("START TRANSACTION")
            self.insert("T", seq, 1)
            # Idle inside the transaction, for T/2 to 3T/2: where the killer
            # often strikes, but not always.
            time.sleep(self.jittered(self.txn_idle_ms) / 1000.0)
            try:
                # A best-effort lookup: the application carries on without it.
                self.execute("SELECT COUNT(*) FROM soak_rows WHERE mode=%s AND stack=%s AND worker=%s AND seq=%s",
                             (self.mode, STACK, self.id, seq))
            except MySQLdb.Error as exc:
                emit("tolerated %d" % failure(exc)[0])
            self.insert("T", seq, 2)
            self.conn.commit()
        except MySQLdb.Error as exc:
            code, message = failure(exc)
            emit("error in %d %s" % (code, message))
            lost = code in LOST
            try:
                self.conn.rollback()
            except MySQLdb.Error as rollback_exc:
                rollback_code = failure(rollback_exc)[0]
                emit("rollback-failed %d" % rollback_code)
                lost = lost or rollback_code in LOST
            if lost:
                self.recover()
            return
        emit("ack T %d" % seq)

    def failed_outside_transaction(self, exc):
        code, message = failure(exc)
        emit("error out %d %s" % (code, message))
        if code in LOST:
            self.recover()

    def insert_job(self, seq):
        try:
            self.insert("I", seq, 0)
        except MySQLdb.Error as exc:
            self.failed_outside_transaction(exc)
            return
        emit("ack I %d" % seq)

    def read_job(self, seq):
        try:
            rows = self.execute("SELECT COUNT(*) FROM soak_rows WHERE mode=%s AND stack=%s AND worker=%s AND kind='I'",
                                (self.mode, STACK, self.id))
        except MySQLdb.Error as exc:
            self.failed_outside_transaction(exc)
            return
        if len(rows) != 1 or not isinstance(rows[0][0], int) or rows[0][0] < 0:
            emit("error out 0 bad read result")
            return
        emit("read %d" % seq)

    def run(self):
        self.deadline = time.monotonic() + self.seconds
        self.conn = self.connect_until_deadline()
        if self.conn is None:
            print("%s: never connected in %d s" % (PROG, self.seconds), file=sys.stderr, flush=True)
            return 1
        seq = 0
        jobs = {1: self.transaction_job, 2: self.insert_job, 0: self.read_job}
        while self.conn is not None:
            pause = self.jittered(self.idle_ms) / 1000.0
            # Never sleep past the end: the driver waits for `done`.
            left = self.deadline - time.monotonic()
            if left > 0:
                time.sleep(min(pause, left + 0.001))
            if time.monotonic() >= self.deadline:
                break
            seq += 1
            jobs[seq % 3](seq)
        emit("done %d" % seq)
        if self.conn is not None:
            try:
                self.conn.close()
            except MySQLdb.Error:
                pass
        return 0


def main():
    return Worker(parse_args(sys.argv[1:])).run()


if __name__ == "__main__":
    sys.exit(main())
