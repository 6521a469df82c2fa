# goneshim - see README.md. `make` builds build/libgoneshim.so; `make demo`
# and `make test` install what they need (scripts/install-deps) first.

VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
# The client library's headers only: the shim never links against it.
MARIADB_CFLAGS := $(shell mariadb_config --cflags 2>/dev/null || echo -I/usr/include/mariadb)
MARIADB_LIBS := $(shell mariadb_config --libs 2>/dev/null || echo -lmariadb)
# The libmysqlclient adapter reads the client library's structures, so it
# is compiled against the headers the system has: Connector/C's (package
# libmariadb-dev), or else Oracle's (libmysqlclient-dev, which conflicts
# with libmariadb-dev). The library then serves programs on that library.
HAVE_LIBMARIADB_HEADERS := $(shell printf '\043include <mysql.h>\n\043include <ma_pvio.h>\n' | \
	$(CC) $(MARIADB_CFLAGS) -E -x c - -o /dev/null 2>/dev/null && echo yes)
ifneq ($(HAVE_LIBMARIADB_HEADERS),yes)
ORACLE_CFLAGS := $(shell mysql_config --cflags 2>/dev/null)
HAVE_ORACLE_HEADERS := $(shell printf '\043include <mysql.h>\n\043ifndef LIBMYSQL_VERSION_ID\n\043error\n\043endif\n' | \
	$(CC) $(ORACLE_CFLAGS) -E -x c - -o /dev/null 2>/dev/null && echo yes)
endif

# PHP's headers, for the mysqlnd adapter: its struct layouts are those of
# the PHP it is built against. Without them the library is built without it.
PHP_INCLUDES := $(shell php-config --includes 2>/dev/null)

WARN := -Wall -Wextra -Werror
BASE_CFLAGS := -std=gnu11 $(WARN) -g -fPIC -fvisibility=hidden -D_GNU_SOURCE \
	-DGONESHIM_VERSION='"$(VERSION)"'
CFLAGS ?= -O2
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDLIBS_SHIM := -ldl -lpthread

# The library in layers (see ARCHITECTURE.md), each compiled with only the
# include paths it may use, so that the compiler rejects an include that
# crosses a layer the wrong way: sql/ and runtime/ stand alone, core/ sees
# them and api/, and the adapters see api/ and runtime/ and their client
# library's headers, never sql/ or core/.
INC_sql := -Ishim/sql
INC_runtime := -Ishim/runtime
INC_core := -Ishim/core -Ishim/api -Ishim/sql -Ishim/runtime
INC_adapters := -Ishim/api -Ishim/runtime
INC_ALL := -Ishim/core -Ishim/api -Ishim/sql -Ishim/runtime

# cppcheck reads no system header: it is told which library's code to check.
ADAPTER_SRC :=
ifeq ($(HAVE_LIBMARIADB_HEADERS),yes)
CPPCHECK_CLIENT := -DMARIADB_PACKAGE_VERSION_ID=30300
CLIENT_CFLAGS := $(MARIADB_CFLAGS)
ADAPTER_SRC += shim/adapters/mysqlclient_adapter.c
else ifeq ($(HAVE_ORACLE_HEADERS),yes)
CPPCHECK_CLIENT := -DLIBMYSQL_VERSION_ID=90000
CLIENT_CFLAGS := $(ORACLE_CFLAGS)
ADAPTER_SRC += shim/adapters/mysqlclient_adapter.c
$(info goneshim: Oracle's client headers (libmysqlclient-dev), no MariaDB Connector/C headers: building the libmysqlclient adapter for Oracle's libmysqlclient; programs on libmariadb are not covered by this build)
else
$(info goneshim: no client library headers (libmariadb-dev or libmysqlclient-dev): building without the libmysqlclient adapter; only PHP's mysqlnd is covered)
endif
ifneq ($(PHP_INCLUDES),)
ADAPTER_SRC += shim/adapters/mysqlnd_adapter.c
else
$(info goneshim: no PHP headers (php-config, package php-dev): building without the PHP/mysqlnd adapter)
endif
# The pure parts and the driver, unit-tested without a server.
PURE_SRC := $(sort $(wildcard shim/sql/*.c shim/runtime/*.c shim/core/*.c))
SHIM_SRC := $(PURE_SRC) $(ADAPTER_SRC)
SHIM_OBJ := $(patsubst shim/%.c,build/obj/%.o,$(SHIM_SRC))
ASAN_OBJ := $(patsubst shim/%.c,build/asan/obj/%.o,$(SHIM_SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
INTEGRATION_SRC := $(sort $(wildcard tests/integration/*.c))

.PHONY: all deps check test matrix lint unit-tests integration-tests launcher-tests build-tests bench-smoke soak-test \
	compat demo bench soak install uninstall clean man manual-tests deb package-tests

all: build/libgoneshim.so

layer = $(firstword $(subst /, ,$(patsubst build/asan/obj/%,%,$(patsubst build/obj/%,%,$1))))
build/obj/adapters/mysqlclient_adapter.o build/asan/obj/adapters/mysqlclient_adapter.o: EXTRA_INC := $(CLIENT_CFLAGS)
build/obj/adapters/mysqlnd_adapter.o build/asan/obj/adapters/mysqlnd_adapter.o: EXTRA_INC := $(PHP_INCLUDES)

# Link-time optimisation lets the statement path inline across the driver,
# the rules and the probe: about 180 fewer instructions per statement
# (bench/run callgrind).
build/obj/%.o: shim/%.c Makefile VERSION
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -flto -MMD -MP $(INC_$(call layer,$@)) $(EXTRA_INC) -c -o $@ $<

build/asan/obj/%.o: shim/%.c Makefile VERSION
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SANITIZE) -MMD -MP $(INC_$(call layer,$@)) $(EXTRA_INC) -c -o $@ $<

-include $(SHIM_OBJ:.o=.d) $(ASAN_OBJ:.o=.d)

build/libgoneshim.so: $(SHIM_OBJ)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -flto -shared -o $@ $(SHIM_OBJ) $(LDLIBS_SHIM)

# The same library with AddressSanitizer and UBSan, for the C test clients.
build/asan/libgoneshim.so: $(ASAN_OBJ)
	$(CC) $(BASE_CFLAGS) -O1 $(SANITIZE) -shared -o $@ $(ASAN_OBJ) $(LDLIBS_SHIM)

build/tests/unit: $(UNIT_SRC) $(wildcard tests/unit/*.h) $(PURE_SRC) $(wildcard shim/*/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O1 $(SANITIZE) $(INC_ALL) -o $@ $(UNIT_SRC) $(PURE_SRC) -lcriterion -lpthread

build/tests/sqlpipe: tests/clients/sqlpipe.c Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O1 $(SANITIZE) $(MARIADB_CFLAGS) -o $@ $< $(MARIADB_LIBS)

# Not sanitized: it forks while other threads allocate, and GCC 12's ASan
# allocator is not fork-safe (a child can inherit its lock held). The shim
# runs under ASan in sqlpipe; here it runs as shipped.
build/tests/threaded_worker: tests/clients/threaded_worker.c Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O2 $(MARIADB_CFLAGS) -o $@ $< $(MARIADB_LIBS) -lpthread

# With the SQL layer: the builtin-names test asks the server about every
# name the classifier knows.
SQL_SRC := $(sort $(wildcard shim/sql/*.c))
build/tests/integration: $(INTEGRATION_SRC) tests/integration/harness.h $(SQL_SRC) $(wildcard shim/sql/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O1 -D_GNU_SOURCE $(MARIADB_CFLAGS) -Itests/integration -Ishim/sql -o $@ \
		$(INTEGRATION_SRC) $(SQL_SRC) $(MARIADB_LIBS) -lcriterion -lpthread

# Sanitized, like sqlpipe: it runs under the sanitized library.
build/tests/stmt_worker: tests/clients/stmt_worker.c Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O1 $(SANITIZE) $(MARIADB_CFLAGS) -o $@ $< $(MARIADB_LIBS)

build/tests/ticket_transaction: tests/clients/ticket_transaction.c Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O1 $(SANITIZE) $(MARIADB_CFLAGS) -o $@ $< $(MARIADB_LIBS)

build/tests/fake_mysqlnd_version.so: tests/clients/fake_mysqlnd_version.c Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O2 -fPIC -shared -o $@ $<

# The benchmark programs: plain clients, optimised like the applications
# goneshim runs in; bench/run preloads the shim or not.
BENCH_PROGRAMS := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/*.c))
build/bench/%: bench/%.c bench/bench_util.h Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O2 -D_GNU_SOURCE $(MARIADB_CFLAGS) -o $@ $< $(MARIADB_LIBS) -lpthread

# The chaos soak's C worker, sanitized like the other C clients.
build/tests/soak_worker: tests/soak/soak_worker.c Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -g -O1 $(SANITIZE) $(MARIADB_CFLAGS) -o $@ $< $(MARIADB_LIBS)

TEST_PROGRAMS := build/libgoneshim.so build/asan/libgoneshim.so build/tests/unit \
	build/tests/sqlpipe build/tests/threaded_worker build/tests/integration \
	build/tests/fake_mysqlnd_version.so build/tests/stmt_worker build/tests/ticket_transaction \
	build/tests/soak_worker $(BENCH_PROGRAMS)

deps:
	@scripts/install-deps

# `make check`: everything but the client libraries' own suites (what the
# Debian 13 cell of `make matrix` runs); `make test`: all of it.
check: deps
	$(MAKE) --no-print-directory $(TEST_PROGRAMS)
	$(MAKE) --no-print-directory lint unit-tests launcher-tests build-tests manual-tests package-tests soak-test \
		bench-smoke integration-tests

test: check
	$(MAKE) --no-print-directory compat

# Beyond this machine's Debian 12 and MariaDB: Oracle MySQL's server, and
# Debian 13, in Debian roots made with debootstrap (tests/matrix/run-matrix;
# needs root). CELLS="trixie" runs one.
matrix: deps
	tests/matrix/run-matrix $(CELLS)

# Static analysis, clean or it fails: cppcheck, and clang-tidy with the
# checks chosen in .clang-tidy. Each layer with the include paths it is
# built with.
# cppcheck 2.17 (Debian 13) says that it limits its analysis of branches,
# and counts that note as a finding: it is not one.
CPPCHECK := cppcheck --enable=warning,style,performance,portability --inline-suppr --std=c11 -q \
	--error-exitcode=1 -D_GNU_SOURCE --suppress=normalCheckLevelMaxBranches
lint:
	$(CPPCHECK) $(INC_ALL) shim/sql shim/runtime shim/core
	$(CPPCHECK) $(INC_adapters) $(CPPCHECK_CLIENT) shim/adapters
	@# The other library's dialect too (cppcheck needs no headers for it).
	$(CPPCHECK) $(INC_adapters) $(if $(findstring MARIADB,$(CPPCHECK_CLIENT)),-DLIBMYSQL_VERSION_ID=90000,-DMARIADB_PACKAGE_VERSION_ID=30300) \
		shim/adapters/mysqlclient_adapter.c
	clang-tidy --quiet $(PURE_SRC) -- -std=gnu11 -D_GNU_SOURCE $(INC_ALL)
ifneq ($(CLIENT_CFLAGS),)
	clang-tidy --quiet shim/adapters/mysqlclient_adapter.c -- -std=gnu11 -D_GNU_SOURCE $(INC_adapters) $(CLIENT_CFLAGS)
endif
ifneq ($(PHP_INCLUDES),)
	clang-tidy --quiet shim/adapters/mysqlnd_adapter.c -- -std=gnu11 -D_GNU_SOURCE $(INC_adapters) $(PHP_INCLUDES)
endif
	@echo "lint: cppcheck and clang-tidy clean"

# The client libraries' own test suites, without and with goneshim
# (tests/compat/README.md): the last step of `make test`, and a target of
# its own.
compat: build/libgoneshim.so
	tests/compat/run-compat

unit-tests: build/tests/unit
	build/tests/unit

launcher-tests: build/libgoneshim.so
	tests/launcher/test-launcher

build-tests: build/libgoneshim.so
	tests/build/test-without-headers

# The manual pages: their variables and counters sections generated from
# the library's own tables (docs/manual_sections.c), the rest from
# docs/*.in. SOURCE_DATE_EPOCH fixes the date for a reproducible package.
MAN_PAGES := build/man/goneshim.1 build/man/libgoneshim.7
MAN_DATE := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%d)
build/tools/manual_sections: docs/manual_sections.c shim/runtime/config.c shim/runtime/counters.c \
		shim/runtime/event_log.c shim/runtime/global_locks.c $(wildcard shim/runtime/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) -D_GNU_SOURCE -Ishim/runtime -o $@ docs/manual_sections.c shim/runtime/config.c \
		shim/runtime/counters.c shim/runtime/event_log.c shim/runtime/global_locks.c -lpthread
build/man/%: docs/%.in build/tools/manual_sections Makefile
	@mkdir -p $(@D)
	build/tools/manual_sections variables > $@.variables
	build/tools/manual_sections counters > $@.counters
	sed -e '/^@VARIABLES@$$/{r $@.variables' -e 'd' -e '}' -e '/^@COUNTERS@$$/{r $@.counters' -e 'd' -e '}' \
		-e 's|@VERSION@|$(VERSION)|g' -e 's|@DATE@|$(MAN_DATE)|g' -e 's|@LIBDIR@|$(PREFIX)/lib/goneshim|g' $< > $@
	rm -f $@.variables $@.counters
man: $(MAN_PAGES)

manual-tests: $(MAN_PAGES)
	tests/build/test-manual

integration-tests: $(TEST_PROGRAMS)
	scripts/with-test-server build/tests/integration --jobs 1

# The chaos soak, short (every worker, every mode, one restart; it fails on
# any anomaly), and every benchmark once with tiny counts (they run; their
# numbers are not looked at).
SOAK_TEST_SECONDS ?= 60
soak-test: build/libgoneshim.so build/asan/libgoneshim.so build/tests/soak_worker
	scripts/with-test-server tests/soak/run-soak --seconds $(SOAK_TEST_SECONDS)

bench-smoke: build/libgoneshim.so $(BENCH_PROGRAMS)
	scripts/with-test-server bench/run --quick >/dev/null
	@echo "bench-smoke: every benchmark ran"

# For people: the numbers of the README's Results section, and the long soak.
bench: deps
	$(MAKE) --no-print-directory build/libgoneshim.so $(BENCH_PROGRAMS)
	scripts/with-test-server bench/run

SOAK_SECONDS ?= 600
soak: deps
	$(MAKE) --no-print-directory build/libgoneshim.so build/asan/libgoneshim.so build/tests/soak_worker
	scripts/with-test-server tests/soak/run-soak --seconds $(SOAK_SECONDS)

demo: deps
	$(MAKE) --no-print-directory build/libgoneshim.so
	scripts/with-test-server scripts/demo

install: build/libgoneshim.so $(MAN_PAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/goneshim $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 build/libgoneshim.so $(DESTDIR)$(PREFIX)/lib/goneshim/libgoneshim.so
	sed -e 's|@LIBDIR@|$(PREFIX)/lib/goneshim|g' -e 's|@VERSION@|$(VERSION)|g' \
		scripts/goneshim > $(DESTDIR)$(PREFIX)/bin/goneshim
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/goneshim
	install -m 0644 build/man/goneshim.1 $(DESTDIR)$(PREFIX)/share/man/man1/goneshim.1
	install -m 0644 build/man/libgoneshim.7 $(DESTDIR)$(PREFIX)/share/man/man7/libgoneshim.7

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/goneshim $(DESTDIR)$(PREFIX)/lib/goneshim/libgoneshim.so \
		$(DESTDIR)$(PREFIX)/share/man/man1/goneshim.1 $(DESTDIR)$(PREFIX)/share/man/man7/libgoneshim.7
	-rmdir $(DESTDIR)$(PREFIX)/lib/goneshim

# A Debian package of the launcher, the library, the manual pages and the
# examples, installed under /usr (build/goneshim_VERSION_ARCH.deb).
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB := build/goneshim_$(VERSION)_$(DEB_ARCH).deb
deb: $(DEB)
$(DEB): build/libgoneshim.so $(MAN_PAGES) scripts/goneshim $(wildcard examples/*) Makefile
	rm -rf build/deb && mkdir -p build/deb/DEBIAN build/deb/usr/share/doc/goneshim/examples
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/build/deb PREFIX=/usr
	cp examples/* build/deb/usr/share/doc/goneshim/examples/
	cp README.md build/deb/usr/share/doc/goneshim/
	gzip -9n build/deb/usr/share/man/man1/goneshim.1 build/deb/usr/share/man/man7/libgoneshim.7
	printf '%s\n' 'Package: goneshim' 'Version: $(VERSION)' 'Architecture: $(DEB_ARCH)' \
		'Maintainer: goneshim developers <goneshim@localhost>' 'Section: database' 'Priority: optional' \
		'Depends: libc6, bash' 'Installed-Size: '"$$(du -sk build/deb/usr | cut -f1)" \
		'Description: hides MySQL "server has gone away" from unmodified long-lived workers' \
		' A preloaded library and a launcher (goneshim -- COMMAND) that reconnect a MySQL' \
		' connection the server closed while it sat idle, in place, restore its session,' \
		' and replay a transaction lost that way when every answer it had comes back the' \
		' same. For libmariadb (C, MySQLdb, DBD::mysql, mysql2) and PHP'"'"'s mysqlnd.' \
		> build/deb/DEBIAN/control
	fakeroot dpkg-deb --build build/deb $@ >/dev/null
	@echo "built $@"

package-tests: $(DEB)
	tests/build/test-package $(DEB)

clean:
	rm -rf build
