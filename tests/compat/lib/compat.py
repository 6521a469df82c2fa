#!/usr/bin/python3
"""Helpers for tests/compat/run-compat (run with /usr/bin/python3, stdlib only).

Subcommands:
  apt-sources                 print deb-src lines mirroring the system's deb entries
  pick-versions WANTED AVAIL...  print the available source versions, closest first
  parse-php RESULTS SRCROOT   run-tests.php -W file -> outcomes (stdout)
  parse-tap DIR KEY           *.tap + *.exit files -> outcomes; KEY: name|number
  parse-rspec JSON EXIT       rspec --format json output -> outcomes
  parse-pytest FILE EXIT      lines written by pytest_outcomes.py -> outcomes
  diff PLAIN SHIM             ids whose outcome differs (one a line)
  units SUITE                 ids on stdin -> units to run again (one a line)
  report SUITE DIR INTENDED   print the suite's summary; exit 1 on a confirmed,
                              unlisted difference

An outcomes file has one line per test, tab-separated:
  KIND  ID  OUTCOME  NOTE
KIND is "test" (an individual test or subtest) or "unit" (the program or
file that ran a group of tests: did it run to its end?). OUTCOME is one of
pass, fail, skip, xfail, xpass, error, ... for tests and complete, skip or
"incomplete" for units. NOTE is free text for people (a name, a reason).
"""

import fnmatch
import functools
import glob
import json
import os
import re
import subprocess
import sys

PROBE_MARK = "goneshim_probe"


def out(kind, tid, outcome, note=""):
    note = re.sub(r"[\t\r\n]+", " ", note or "").strip()
    if len(note) > 300:
        note = note[:297] + "..."
    print(f"{kind}\t{tid}\t{outcome}\t{note}")


# ---------------------------------------------------------------- apt

def apt_sources():
    """deb-src lines for every enabled `deb` entry of the system whose suite
    belongs to this release (VERSION_CODENAME), one-line and deb822 formats."""
    codename = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("VERSION_CODENAME="):
                    codename = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    entries = []  # (options, uri, suite, components)
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list"))
    for path in files:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.split("#", 1)[0].strip()
            m = re.match(r"^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$", line)
            if m:
                opts = (m.group(1) or "").strip()
                entries.append((opts, m.group(2), m.group(3), m.group(4).split()))
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            text = open(path).read()
        except OSError:
            continue
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line[0] in " \t" and key:
                    fields[key] += " " + line.strip()
                    continue
                if ":" in line:
                    key, val = line.split(":", 1)
                    key = key.strip().lower()
                    fields[key] = val.strip()
            if "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            opts = ""
            if fields.get("signed-by"):
                opts = f"[signed-by={fields['signed-by'].split()[0]}]"
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    entries.append((opts, uri, suite, fields.get("components", "main").split()))
    seen = set()
    for opts, uri, suite, comps in entries:
        if codename and not (suite == codename or suite.startswith(codename + "-")
                             or suite.startswith(codename + "/")):
            continue
        line = " ".join(x for x in ["deb-src", opts, uri, suite] + comps if x)
        if line not in seen:
            seen.add(line)
            print(line)
    # The next release, last: its versions are newer, so they are only
    # taken when the release's own source cannot be downloaded (the archive
    # lists ruby-mysql2 0.5.3-4 for bookworm, but answers 404 for it).
    following = NEXT_RELEASE.get(codename)
    for opts, uri, suite, comps in entries:
        if following and suite == codename:
            line = " ".join(x for x in ["deb-src", opts, uri, following] + comps if x)
            if line not in seen:
                seen.add(line)
                print(line)


NEXT_RELEASE = {"bullseye": "bookworm", "bookworm": "trixie", "trixie": "forky"}


def dpkg_cmp(a, b):
    if a == b:
        return 0
    r = subprocess.run(["dpkg", "--compare-versions", a, "lt", b])
    return -1 if r.returncode == 0 else 1


def pick_versions(wanted, avail):
    """The exact version first, then older ones (newest first), then newer."""
    avail = sorted(set(avail), key=functools.cmp_to_key(dpkg_cmp))
    exact = [v for v in avail if v == wanted]
    older = [v for v in avail if dpkg_cmp(v, wanted) < 0][::-1]
    newer = [v for v in avail if dpkg_cmp(v, wanted) > 0]
    for v in exact + older + newer:
        print(v)


# ---------------------------------------------------------------- parsers

PHP_MAP = {"PASSED": "pass", "FAILED": "fail", "SKIPPED": "skip", "XFAILED": "xfail",
           "BORKED": "error", "WARNED": "warn", "LEAKED": "leak", "XLEAKED": "xleak"}


def php_diff_note(artifacts, tid, srcroot):
    """The first lines of run-tests.php's NAME.diff for a failed test."""
    try:
        lines = open(os.path.join(artifacts, tid[:-len(".phpt")] + ".diff"), errors="replace").read().splitlines()
    except OSError:
        return ""
    return " | ".join(l.strip() for l in lines[:3]).replace(srcroot, "")


def parse_php(results, srcroot, artifacts=None):
    srcroot = srcroot.rstrip("/") + "/"
    with open(results, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if "\t" not in line:
                continue
            status, path = line.split("\t", 1)
            note = ""
            m = re.match(r"^# (\S+): (\S+)$", path)
            if m:  # a test run through a --REDIRECTTEST-- (ext/pdo/tests via pdo_mysql)
                note = "via " + m.group(1).replace(srcroot, "")
                path = m.group(2)
            tid = path.replace(srcroot, "")
            if PROBE_MARK in tid:
                continue
            outcome = PHP_MAP.get(status, status.lower())
            if outcome not in ("pass", "skip") and artifacts:
                diff = php_diff_note(artifacts, tid, srcroot)
                note = f"{note}; {diff}" if note and diff else (note or diff)
            out("test", tid, outcome, note)


TAP_LINE = re.compile(r"^(not )?ok\b\s*(\d+)?\s*(?:-\s*)?(.*?)\s*(?:#\s*(TODO|SKIP)\S*\s*(.*))?$",
                      re.IGNORECASE)


def parse_tap_text(text):
    """-> dict(plan=int|None, skip_all=str|None, bail=str|None, results=[...])"""
    res = {"plan": None, "skip_all": None, "bail": None, "results": []}
    last_diag = ""
    for line in text.splitlines():
        if res["bail"] is not None:
            break
        if line.startswith("#"):
            last_diag = re.sub(r"[^\s(]*/(unittest/)", r"\1", line.lstrip("# ").strip())
            continue
        m = re.match(r"^1\.\.(\d+)\s*(?:#\s*skip\w*\s*(.*))?$", line, re.IGNORECASE)
        if m:
            res["plan"] = int(m.group(1))
            if res["plan"] == 0:
                res["skip_all"] = (m.group(2) or "").strip() or "skipped"
            continue
        m = re.match(r"^Bail out!\s*(.*)$", line)
        if m:
            res["bail"] = m.group(1).strip() or "bail out"
            continue
        m = TAP_LINE.match(line)
        if m:
            notok, num, desc, directive, dtext = m.groups()
            num = int(num) if num else len(res["results"]) + 1
            directive = (directive or "").upper()
            if directive == "SKIP":
                outcome = "skip"
            elif directive == "TODO":
                outcome = "xfail" if notok else "xpass"
            else:
                outcome = "fail" if notok else "pass"
            res["results"].append((num, desc.strip(), outcome, (dtext or "").strip(),
                                   last_diag if outcome == "fail" else ""))
            last_diag = ""
    return res


def parse_tap(directory, key):
    """One TAP stream per unit: NAME.tap (stdout), NAME.exit (exit status: a
    number, 128+N for signal N, 124 for a timeout) and NAME.unit (the unit's id)."""
    for tap in sorted(glob.glob(os.path.join(directory, "*.tap"))):
        base = tap[:-4]
        try:
            unit = open(base + ".unit").read().strip()
        except OSError:
            unit = os.path.basename(base)
        try:
            status = int(open(base + ".exit").read().strip() or "-1")
        except (OSError, ValueError):
            status = -1
        res = parse_tap_text(open(tap, errors="replace").read())
        probe = PROBE_MARK in unit
        nfail = 0
        seen = {}
        for num, desc, outcome, dtext, diag in res["results"]:
            if outcome == "fail":
                nfail += 1
            if key == "name":
                label = desc or dtext or f"#{num}"
                tid = f"{unit}/{label}"
                seen[tid] = seen.get(tid, 0) + 1
                if seen[tid] > 1:
                    tid += f"#{seen[tid]}"
                note = f"#{num}" + (f": {diag}" if diag else "")
            else:
                tid = f"{unit}#{num}"
                note = desc or dtext
            if not probe:
                out("test", tid, outcome, note)
        # Did the unit run to its end?
        problems = []
        if res["bail"] is not None:
            problems.append(f"Bail out! {res['bail']}")
        if status == 124:
            problems.append("timed out")
        elif 128 < status <= 128 + 64:
            problems.append(f"killed by signal {status - 128}")
        elif status > 128:
            problems.append(f"exit status {status}")
        elif status < 0:
            problems.append("no exit status recorded")
        if res["plan"] is None:
            problems.append("no plan")
        elif res["skip_all"] is None and len(res["results"]) != res["plan"]:
            problems.append(f"ran {len(res['results'])} of {res['plan']} planned")
        # Test::More and mytap exit with the number of failures (capped);
        # anything else is the program's own doing.
        if not problems and 0 <= status <= 128 and status not in (0, min(nfail, 254), 1 if nfail else 0):
            problems.append(f"exit status {status} with {nfail} failed")
        if probe:
            continue
        if res["plan"] is None and not res["results"] and res["bail"] is None and 0 <= status <= 128:
            # A program that prints no TAP at all: its exit status is its result.
            out("test", f"{unit}/(exit status)" if key == "name" else f"{unit}#exit", "pass" if status == 0 else "fail",
                f"exit {status}")
            out("unit", unit, "complete" if status == 0 else "incomplete", f"no TAP; exit {status}")
            continue
        if res["skip_all"] is not None and not problems:
            out("unit", unit, "skip", res["skip_all"])
        elif problems:
            out("unit", unit, "incomplete", "; ".join(problems))
        else:
            out("unit", unit, "complete", f"exit {status}")


def parse_rspec(path, exit_status):
    try:
        data = json.load(open(path, errors="replace"))
    except (OSError, ValueError) as e:
        out("unit", "rspec", "incomplete", f"no JSON report ({e}); exit {exit_status}")
        return
    for ex in data.get("examples", []):
        tid = ex.get("id") or f"{ex.get('file_path')}:{ex.get('line_number')}"
        if PROBE_MARK in tid:
            continue
        status = ex.get("status")
        outcome = {"passed": "pass", "failed": "fail", "pending": "skip"}.get(status, status)
        note = ex.get("full_description", "")
        exc = ex.get("exception")
        if exc and exc.get("message"):
            note += " | " + exc["message"].strip().splitlines()[0]
        elif ex.get("pending_message"):
            note += " | pending: " + ex["pending_message"]
        out("test", tid, outcome, note)
    summ = data.get("summary", {})
    outside = summ.get("errors_outside_of_examples_count", 0)
    if outside:
        out("unit", "rspec", "incomplete", f"{outside} error(s) outside of examples; exit {exit_status}")
    else:
        out("unit", "rspec", "complete", f"exit {exit_status}")


def parse_pytest(path, exit_status):
    order, tests, units = [], {}, []
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        kind, nodeid, when, outcome = parts[:4]
        msg = parts[4] if len(parts) > 4 else ""
        if kind == "collect":
            units.append((nodeid, outcome, msg))
            continue
        if PROBE_MARK in nodeid:
            continue
        if nodeid not in tests:
            order.append(nodeid)
            tests[nodeid] = {}
        tests[nodeid][when] = (outcome, msg)
    for nodeid in order:
        phases = tests[nodeid]
        setup = phases.get("setup", ("passed", ""))
        call = phases.get("call")
        teardown = phases.get("teardown", ("passed", ""))
        if setup[0] == "failed":
            outcome, msg = "error", "setup: " + setup[1]
        elif setup[0] == "skipped":
            outcome, msg = "skip", setup[1]
        elif call is None:
            outcome, msg = "error", "no call phase"
        else:
            outcome, msg = {"passed": "pass", "failed": "fail", "skipped": "skip",
                            "xfailed": "xfail", "xpassed": "xpass"}.get(call[0], call[0]), call[1]
            if teardown[0] == "failed":
                outcome, msg = "error", "teardown: " + teardown[1]
        out("test", nodeid, outcome, msg)
    bad = [u for u in units if u[1] == "failed"]
    for nodeid, _, msg in bad:
        out("unit", "collect:" + nodeid, "incomplete", msg)
    # pytest: 0 all passed, 1 some failed, 5 none collected; others: trouble
    out("unit", "pytest", "complete" if int(exit_status) in (0, 1) else "incomplete",
        f"exit {exit_status}")


# ---------------------------------------------------------------- comparison

def read_outcomes(path):
    d = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 3:
                    kind, tid, outcome = parts[:3]
                    d[(kind, tid)] = (outcome, parts[3] if len(parts) > 3 else "")
    except OSError:
        pass
    return d


def absent(kind):
    return "not run" if kind == "test" else "absent"


def differing(plain, shim):
    keys = list(plain) + [k for k in shim if k not in plain]
    diffs = []
    for k in keys:
        a = plain.get(k, (absent(k[0]), ""))[0]
        b = shim.get(k, (absent(k[0]), ""))[0]
        if a != b:
            diffs.append(k)
    return diffs


def cmd_diff(plain_path, shim_path):
    for kind, tid in differing(read_outcomes(plain_path), read_outcomes(shim_path)):
        print(tid)


def unit_of(suite, tid):
    if suite == "connector-c":
        return tid.split("/", 1)[0]
    if suite == "perl-dbd-mysql":
        return tid.split("#", 1)[0]
    if suite == "python-mysqldb" and tid.startswith("collect:"):
        return tid[len("collect:"):]
    return tid


def cmd_units(suite):
    seen = []
    for line in sys.stdin:
        tid = line.strip()
        if not tid or tid in ("rspec", "pytest"):
            continue
        u = unit_of(suite, tid)
        if u not in seen:
            seen.append(u)
    for u in seen:
        print(u)


def read_intended(path):
    entries = []
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return entries
    for n, line in enumerate(lines, 1):
        s = line.split("#", 1)[0].strip() if line.lstrip().startswith("#") else line.strip()
        if not s:
            continue
        parts = s.split(None, 2)
        if len(parts) < 3:
            sys.stderr.write(f"{path}:{n}: needs SUITE TEST-ID REASON: {line}\n")
            continue
        entries.append((parts[0], parts[1], parts[2], n))
    return entries


def count(outcomes):
    c = {}
    for (kind, tid), (outcome, note) in outcomes.items():
        if kind == "test":
            c[outcome] = c.get(outcome, 0) + 1
    total = sum(c.values())
    main = [f"{c.get(k, 0)} pass" if k == "pass" else f"{c.get(k, 0)} {k}" for k in ("pass", "fail", "skip")]
    others = [f"{v} {k}" for k, v in sorted(c.items()) if k not in ("pass", "fail", "skip")]
    units = [o for (kind, _), (o, _) in outcomes.items() if kind == "unit"]
    inc = sum(1 for o in units if o == "incomplete")
    s = f"{total} tests: " + ", ".join(main + others)
    if units:
        s += f"; {len(units)} programs/files, {inc} did not run to their end"
    return s


def fmt(o):
    outcome, note = o
    return f"{outcome} ({note})" if note and outcome not in ("pass",) else outcome


def cmd_report(suite, d, intended_path):
    plain = read_outcomes(os.path.join(d, "plain", "outcomes.tsv"))
    shim = read_outcomes(os.path.join(d, "shim", "outcomes.tsv"))
    rp = os.path.join(d, "rerun-plain", "outcomes.tsv")
    rs = os.path.join(d, "rerun-shim", "outcomes.tsv")
    have_rerun = os.path.exists(rp) and os.path.exists(rs)
    rplain, rshim = read_outcomes(rp), read_outcomes(rs)
    intended = [e for e in read_intended(intended_path) if e[0] == suite]

    print(f"   plain: {count(plain)}")
    print(f"   shim:  {count(shim)}")
    diffs = differing(plain, shim)
    rows = {"DEFECT": [], "INTENDED": [], "FLAKY": []}
    used = set()
    # Tests that did not run because their program or file stopped early are
    # listed in differences.txt but folded into that unit's line on screen.
    broken_units = {tid for kind, tid in diffs if kind == "unit"
                    and "incomplete" in (plain.get((kind, tid), ("",))[0], shim.get((kind, tid), ("",))[0])}
    folded = {}
    for k in diffs:
        kind, tid = k
        a = plain.get(k, (absent(kind), ""))
        b = shim.get(k, (absent(kind), ""))
        fold = (kind == "test" and unit_of(suite, tid) in broken_units
                and absent(kind) in (a[0], b[0]))
        listed = None
        for e in intended:
            if fnmatch.fnmatchcase(tid, e[1]):
                listed = e
                used.add(e[3])
                break
        if have_rerun:
            ra = rplain.get(k, (absent(kind), ""))
            rb = rshim.get(k, (absent(kind), ""))
            confirmed = ra[0] != rb[0] and not (ra[0] == rb[0] == absent(kind))
            rerun = f"rerun: {ra[0]} / {rb[0]}"
        else:
            confirmed, rerun = True, "no rerun"
        label = "INTENDED" if listed else ("DEFECT" if confirmed else "FLAKY")
        if listed and not confirmed:
            label = "INTENDED"  # listed: never a failure, confirmed or not
        line = f"{tid}: plain {fmt(a)} -> shim {fmt(b)}  [{rerun}]"
        if listed:
            line += f"  -- listed: {listed[2]}"
        rows[label].append((kind, line, fold, tid))
        if fold:
            folded.setdefault((label, unit_of(suite, tid)), []).append(tid.split("/", 1)[-1])
    with open(os.path.join(d, "differences.txt"), "w") as f:
        for label in ("DEFECT", "FLAKY", "INTENDED"):
            for kind, line, fold, tid in rows[label]:
                f.write(f"{label}\t{kind}\t{line}\n")
    n = {label: sum(1 for r in rows[label] if not r[2]) for label in rows}
    nfolded = sum(1 for label in rows for r in rows[label] if r[2])
    with open(os.path.join(d, "counts"), "w") as f:
        f.write(f"{n['DEFECT']} {n['INTENDED']} {n['FLAKY']} {nfolded}\n")
    if not diffs:
        print("   no differences")
    else:
        print(f"   {sum(n.values())} difference(s): {n['DEFECT']} unlisted and confirmed, "
              f"{n['FLAKY']} not confirmed on rerun (flaky), {n['INTENDED']} listed as intended"
              + (f"; plus {nfolded} tests that did not run after their program stopped" if nfolded else ""))
        for label in ("DEFECT", "FLAKY", "INTENDED"):
            for kind, line, fold, tid in rows[label]:
                if fold:
                    continue
                print(f"     {label:<8} {'[' + kind + '] ' if kind == 'unit' else ''}{line}")
                names = folded.get((label, tid)) if kind == "unit" else None
                if names:
                    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
                    print(f"              and {len(names)} of its tests did not run in one mode: {shown}")
    # Failing in both modes, but not in the same way: not counted, shown.
    def norm(note):
        note = re.sub(r"0x[0-9a-fA-F]+", "0x?", note)
        note = re.sub(r"\d+", "N", note)
        return re.sub(r"\s+", " ", note).strip()
    same_fail = []
    for k, (o, note) in plain.items():
        if k in shim and shim[k][0] == o and o in ("fail", "error", "xfail", "incomplete") \
                and norm(note) != norm(shim[k][1]):
            same_fail.append((k, note, shim[k][1]))
    with open(os.path.join(d, "same-outcome-other-failure.txt"), "w") as f:
        for (kind, tid), a, b in same_fail:
            f.write(f"{kind}\t{tid}\tplain: {a}\tshim: {b}\n")
    if same_fail:
        print(f"   {len(same_fail)} test(s) fail in both modes, but differently (not counted; check them):")
        for (kind, tid), a, b in same_fail[:20]:
            print(f"     {tid}\n       plain: {a[:200]}\n       shim:  {b[:200]}")
        if len(same_fail) > 20:
            print(f"     ... see {os.path.join(d, 'same-outcome-other-failure.txt')}")
    for e in intended:
        if e[3] not in used:
            print(f"   note: intended-differences line {e[3]} ({e[1]}) matched no difference this run")
    return 1 if rows["DEFECT"] else 0


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "apt-sources":
        apt_sources()
    elif cmd == "pick-versions":
        pick_versions(args[0], args[1:])
    elif cmd == "parse-php":
        parse_php(*args[:3])
    elif cmd == "parse-tap":
        parse_tap(args[0], args[1])
    elif cmd == "parse-rspec":
        parse_rspec(args[0], args[1])
    elif cmd == "parse-pytest":
        parse_pytest(args[0], args[1])
    elif cmd == "diff":
        cmd_diff(args[0], args[1])
    elif cmd == "units":
        cmd_units(args[0])
    elif cmd == "report":
        return cmd_report(args[0], args[1], args[2])
    else:
        sys.stderr.write(f"compat.py: unknown command {cmd}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
