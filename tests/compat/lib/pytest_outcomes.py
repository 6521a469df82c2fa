"""pytest plugin for tests/compat/run-compat: writes one line per test phase
and per collection failure to the file named by COMPAT_PYTEST_OUTCOMES:
  KIND<TAB>NODEID<TAB>WHEN<TAB>OUTCOME<TAB>MESSAGE
Loaded with `-p pytest_outcomes` (this directory on PYTHONPATH)."""

import os
import re

_PATH = os.environ.get("COMPAT_PYTEST_OUTCOMES")


def _write(*fields):
    if not _PATH:
        return
    line = "\t".join(re.sub(r"[\t\r\n]+", " ", str(f)) for f in fields)
    with open(_PATH, "a") as f:
        f.write(line + "\n")


def _message(report):
    if report.passed:
        return ""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    text = getattr(report, "longreprtext", "") or ""
    errors = [l[1:].strip() for l in text.splitlines() if l.startswith("E ")]
    if errors:
        return errors[0]
    rest = text.strip().splitlines()
    return rest[-1] if rest else ""


def pytest_runtest_logreport(report):
    outcome = report.outcome
    if hasattr(report, "wasxfail"):
        outcome = "xfailed" if report.skipped else "xpassed"
    _write("test", report.nodeid, report.when, outcome, _message(report)[:300])


def pytest_collectreport(report):
    if report.failed:
        _write("collect", report.nodeid or "(session)", "collect", "failed", _message(report)[:300])
