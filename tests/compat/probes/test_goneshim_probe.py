"""goneshim compat probe (not an upstream test), run by tests/compat/run-compat
in the same pytest invocation as mysqlclient's tests/: is goneshim loaded in
this python, which MySQLdb is it, and what does a killed idle connection do?"""
import os
import time

import MySQLdb
from configdb import connection_factory


def test_goneshim_probe():
    with open("/proc/self/maps") as f:
        loaded = "libgoneshim" in f.read()
    admin = connection_factory()
    a = connection_factory()
    admin.cursor().execute("KILL CONNECTION %d" % a.thread_id())
    time.sleep(0.3)
    try:
        c = a.cursor()
        c.execute("SELECT 1")
        c.fetchall()
        after = "ok"
    except MySQLdb.OperationalError as e:
        after = "error %d" % e.args[0]
    with open(os.environ["COMPAT_PROBE_OUT"], "w") as f:
        f.write("loaded=%s\nclient=MySQLdb %s %s\nafter_kill=%s\n"
                % ("yes" if loaded else "no", MySQLdb.__version__, MySQLdb.__file__, after))
