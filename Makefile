# jcstar - plain Makefile. Outputs go under build/.
#   make            library (static + shared), CLI, jcstar.pc
#   make check      install missing Debian packages, build with -Werror,
#                   run every test (also under ASan + UBSan and memcheck),
#                   CHECK_JOBS at a time (default: the CPUs)
#   make demo       throw-away demo CA, issue, show, verify, render,
#                   verify the code read from the artwork
#   make bench      benchmarks (not part of check)
#   make install    PREFIX=/usr/local DESTDIR=

CC ?= cc
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share/jcstar
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
PKG_CONFIG ?= pkg-config

VERSION = 0.1.0
SOVERSION = 0
B = build

OPT ?= -O2 -g
WERROR ?= -Werror
WARN = -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion \
       -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
DEP_PKGS = libcrypto libqrencode libpng freetype2 libjpeg sqlite3
# Loaded when first needed (dlopen), not linked, so that a command that does
# not use them does not load the 25 libraries they bring: libzbar by the
# library's scan functions (libjcstar/scan.c), libmicrohttpd by jcstar serve
# (cli/cmd_serve.c). Their headers are needed to build.
DL_PKGS = zbar
CLI_PKGS = libmicrohttpd
# Recursive (=) so pkg-config runs when a recipe needs it, after
# scripts/install-deps has had its chance.
DEP_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(DEP_PKGS) $(DL_PKGS))
# batch work runs on threads (--jobs)
DEP_LIBS = $(shell $(PKG_CONFIG) --libs $(DEP_PKGS)) -pthread
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) \
       $(WARN) $(WERROR) -pthread -fPIC -fvisibility=hidden $(DEP_CFLAGS) $(CFLAGS) \
       -DJCS_DATADIR='"$(DATADIR)"'

LIB_SRC = $(wildcard libjcstar/*.c)
CLI_SRC = $(wildcard cli/*.c)
TEST_NAMES = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))

# the shipped scheme data, compiled into the library (scripts/embed-data)
DATA_SRC = $(wildcard certs/schemes/*.scheme) certs/recognition.conf \
       certs/policy.conf
LIB_OBJ = $(LIB_SRC:libjcstar/%.c=$(B)/obj/lib/%.o) $(B)/obj/lib/builtin.o
CLI_OBJ = $(CLI_SRC:cli/%.c=$(B)/obj/cli/%.o)

# the sanitizer and fuzzing builds also prove, on every label they decode,
# that the DER rules leave nothing for a re-encoding to find (label.c)
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer \
      -fno-sanitize-recover=all -DJCS_REENCODE_CHECK
ASAN_LIB_OBJ = $(LIB_SRC:libjcstar/%.c=$(B)/asan/lib/%.o) \
       $(B)/asan/lib/builtin.o

.PHONY: all check check-build test-unit test-asan test-cli test-example \
        test-install test-symbols test-web demo bench install uninstall clean deps vectors \
        fuzz fuzz-build test-fuzz analyze test-valgrind test-valgrind-full \
        check/unit check/unit-asan check/symbols check/example check/install check/demo \
        check/web check/cppcheck check/clang-tidy

all: $(B)/jcstar $(B)/libjcstar.a $(B)/libjcstar.so.$(SOVERSION) $(B)/jcstar.pc

deps:
	@scripts/install-deps

$(B)/obj/lib/%.o: libjcstar/%.c $(wildcard libjcstar/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/gen/builtin.c: $(DATA_SRC) scripts/embed-data
	@mkdir -p $(@D)
	scripts/embed-data $@

$(B)/obj/lib/builtin.o: $(B)/gen/builtin.c $(wildcard libjcstar/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibjcstar -c $< -o $@

$(B)/obj/cli/%.o: cli/%.c cli/cli.h libjcstar/jcstar.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibjcstar $$($(PKG_CONFIG) --cflags $(CLI_PKGS)) \
	    -c $< -o $@

$(B)/libjcstar.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libjcstar.so.$(SOVERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libjcstar.so.$(SOVERSION) -Wl,--no-undefined \
	    -o $@ $^ $(DEP_LIBS) $(LDFLAGS)
	ln -sf libjcstar.so.$(SOVERSION) $(B)/libjcstar.so

$(B)/jcstar: $(CLI_OBJ) $(B)/libjcstar.a
	$(CC) -o $@ $(CLI_OBJ) $(B)/libjcstar.a $(DEP_LIBS) $(LDFLAGS)

$(B)/jcstar.pc: Makefile
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' \
	  'includedir=$(INCLUDEDIR)' '' 'Name: jcstar' \
	  'Description: verifiable IoT security labels (JC-STAR and sister schemes)' \
	  'Version: $(VERSION)' 'Requires.private: $(DEP_PKGS)' \
	  'Libs: -L$${libdir} -ljcstar' 'Libs.private: -pthread' \
	  'Cflags: -I$${includedir}' > $@

# ---- tests ----
TEST_CFLAGS = $(ALL_CFLAGS) -Ilibjcstar $(shell $(PKG_CONFIG) --cflags cmocka)
TEST_LIBS = $(shell $(PKG_CONFIG) --libs cmocka) $(DEP_LIBS)

$(B)/tests/%: tests/%.c tests/testutil.c tests/testutil.h $(B)/libjcstar.a
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -Wno-missing-prototypes -o $@ $< tests/testutil.c \
	    $(B)/libjcstar.a $(TEST_LIBS)

$(B)/asan/lib/%.o: libjcstar/%.c $(wildcard libjcstar/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c $< -o $@

$(B)/asan/lib/builtin.o: $(B)/gen/builtin.c $(wildcard libjcstar/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Ilibjcstar -c $< -o $@

$(B)/asan/libjcstar.a: $(ASAN_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/asan/tests/%: tests/%.c tests/testutil.c tests/testutil.h $(B)/asan/libjcstar.a
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) $(SAN) -O1 -Wno-missing-prototypes -o $@ $< \
	    tests/testutil.c $(B)/asan/libjcstar.a $(TEST_LIBS)

$(B)/asan/jcstar: $(CLI_SRC) cli/cli.h $(B)/asan/libjcstar.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Ilibjcstar \
	    $$($(PKG_CONFIG) --cflags $(CLI_PKGS)) -o $@ $(CLI_SRC) \
	    $(B)/asan/libjcstar.a $(DEP_LIBS)

$(B)/example: docs/example.c $(B)/libjcstar.so.$(SOVERSION)
	$(CC) $(ALL_CFLAGS) -Ilibjcstar -o $@ $< -L$(B) -ljcstar \
	    -Wl,-rpath,'$$ORIGIN'

# make check: the build (CHECK_JOBS compilers at a time), then every test as
# a job of its own, CHECK_JOBS jobs at a time (default: the number of CPUs;
# CHECK_JOBS=1 runs them one after the other). Each job's output is kept in
# build/check/ and printed whole when the job ends, with a line "PASS NAME
# (S s)" or "FAIL NAME (exit N, S s)" (scripts/check-job); at the end one
# line per job and the failed ones named again (scripts/check-summary). A
# failed job does not stop the others; make check then exits non-zero.
# The jobs (make check/NAME runs one):
#   unit unit-asan         the cmocka tests, plain and under ASan+UBSan
#   symbols example install demo   (demo: scripts/demo, as make demo)
#   cli/S asan/S           tests/S.sh with build/jcstar, build/asan/jcstar
#   valgrind/S             tests/S.sh with jcstar under valgrind memcheck
#                          (every CLI script, scripts/test-valgrind)
#   web                    the web verifier (node --test)
#   fuzz/T                 libFuzzer target T for 30 s (the seed corpora
#                          are made after the build: scripts/fuzz --seed)
#   cppcheck clang-tidy    static analysis (scripts/analyze)
# Most jobs use one core, so on 2 cores two run side by side. They are
# listed longest first (their CPU time on 2 cores), so that the long ones
# start at once and the short ones fill in around them and both cores stay
# busy to the end; a script not named in CHECK_SLOW runs with the short
# jobs. Every file a job needs is built before the jobs start: a job whose
# prerequisite is still being made is passed over by make -j, which would
# spoil the order.
# The jobs' scratch files (TMPDIR) go to a directory of their own, on a RAM
# file system when there is one with room (scripts/check-tmpdir says why;
# CHECK_TMPDIR=DIR puts them under DIR instead), removed at the end.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CLI_TESTS = $(basename $(notdir $(wildcard tests/cli*.sh)))
CHECK_SLOW = valgrind/cli_registry valgrind/cli clang-tidy \
       valgrind/cli_render valgrind/cli_schemes valgrind/cli_faults \
       valgrind/cli_qr valgrind/cli_hsm valgrind/cli_scan web \
       valgrind/cli_serve valgrind/cli_batchverify valgrind/cli_payload \
       unit-asan unit $(FUZZ_NAMES:%=fuzz/%) asan/cli_registry asan/cli_qr \
       asan/cli asan/cli_faults asan/cli_render cli/cli_registry
CHECK_LIST = $(CHECK_SLOW) \
       $(filter-out $(CHECK_SLOW),$(CLI_TESTS:%=valgrind/%)) \
       $(filter-out $(CHECK_SLOW),$(CLI_TESTS:%=asan/%)) \
       $(filter-out $(CHECK_SLOW),$(CLI_TESTS:%=cli/%)) \
       cppcheck install example symbols demo

check: deps
	@start=$$(date +%s); \
	  $(MAKE) --no-print-directory -j$(CHECK_JOBS) -Otarget check-build \
	    fuzz-build && scripts/fuzz --seed || exit; \
	  TMPDIR=$$(scripts/check-tmpdir) || exit; export TMPDIR; \
	  echo "== build: $$(($$(date +%s) - start)) s; $(words $(CHECK_LIST)) jobs, $(CHECK_JOBS) at a time; scratch files in $$TMPDIR; load average $$(cut -d" " -f1-3 /proc/loadavg)"; \
	  rm -rf $(B)/check; \
	  $(MAKE) --no-print-directory -j$(CHECK_JOBS) -Otarget -k \
	    $(CHECK_LIST:%=check/%); \
	  scripts/check-tmpdir --remove "$$TMPDIR"; \
	  scripts/check-summary $$start $(CHECK_LIST)

JOB = @scripts/check-job $(@:check/%=%)
check/unit:
	$(JOB) $(MAKE) --no-print-directory test-unit
check/unit-asan:
	$(JOB) $(MAKE) --no-print-directory test-asan
check/symbols:
	$(JOB) $(MAKE) --no-print-directory test-symbols
check/example:
	$(JOB) $(MAKE) --no-print-directory test-example
check/demo: $(B)/jcstar
	$(JOB) scripts/demo
check/install:
	$(JOB) $(MAKE) --no-print-directory test-install
check/web:
	$(JOB) $(MAKE) --no-print-directory test-web
check/cppcheck:
	$(JOB) scripts/analyze cppcheck
check/clang-tidy: $(B)/gen/builtin.c
	$(JOB) env ANALYZE_JOBS=1 scripts/analyze clang-tidy
check/cli/%: $(B)/jcstar $(B)/tests/make_qr_png
	$(JOB) env JCSTAR=$(CURDIR)/$(B)/jcstar tests/$*.sh
check/asan/%: $(B)/asan/jcstar $(B)/tests/make_qr_png
	$(JOB) env ASAN_OPTIONS=detect_leaks=1 JCSTAR=$(CURDIR)/$(B)/asan/jcstar \
	    tests/$*.sh
check/valgrind/%: $(B)/jcstar $(B)/tests/make_qr_png
	$(JOB) scripts/test-valgrind tests/$*.sh
check/fuzz/%: $(B)/fuzz/%
	$(JOB) scripts/fuzz 30 $*

check-build: all $(TEST_NAMES:%=$(B)/tests/%) $(TEST_NAMES:%=$(B)/asan/tests/%) \
             $(B)/asan/jcstar $(B)/example $(B)/tests/make_qr_png

test-unit: $(TEST_NAMES:%=$(B)/tests/%)
	@set -e; for t in $^; do echo "== $$t"; \
	  JCSTAR_TOP=$(CURDIR) $$t; done

test-asan: $(TEST_NAMES:%=$(B)/asan/tests/%)
	@set -e; for t in $^; do echo "== $$t (ASan+UBSan)"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  JCSTAR_TOP=$(CURDIR) $$t; done

test-symbols: $(B)/libjcstar.so.$(SOVERSION)
	@scripts/check-symbols $(B)/libjcstar.so.$(SOVERSION)

# The web verifier's JavaScript: same verdicts as the C library (node's test
# runner). npm installs the pinned dependencies (web/package-lock.json).
test-web: $(B)/jcstar
	@echo "== web verifier (node --test)"
	@cd web && npm ci --no-audit --no-fund --loglevel=error
	@JCSTAR=$(CURDIR)/$(B)/jcstar node --test tests/web/*.test.mjs

# A staged install, then the example built against it through pkg-config.
test-install: all
	@echo "== staged install"
	@rm -rf $(B)/stage
	@$(MAKE) --no-print-directory -s install DESTDIR=$(CURDIR)/$(B)/stage \
	    PREFIX=/opt/jcstar
	@S=$(CURDIR)/$(B)/stage/opt/jcstar; \
	  export PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(B)/stage \
	    PKG_CONFIG_PATH=$$S/lib/pkgconfig; \
	  $(CC) -o $(B)/example-installed docs/example.c \
	    $$($(PKG_CONFIG) --cflags --libs jcstar) -Wl,-rpath,$$S/lib && \
	  $(B)/example-installed $$S/share/jcstar/certs >/dev/null && \
	  test -x $$S/bin/jcstar && test -f $$S/share/man/man1/jcstar.1 && \
	  $$S/bin/jcstar schemes | grep -q "$$S/share/jcstar/certs/schemes/cra.scheme" && \
	  echo "1 passed, 0 failed"

test-example: $(B)/example
	@echo "== example program"; $(B)/example $(CURDIR)/certs

# Every tests/cli*.sh, with the plain and the ASan+UBSan command.
test-cli: $(B)/jcstar $(B)/asan/jcstar $(B)/tests/make_qr_png
	@set -e; for t in tests/cli*.sh; do \
	  echo "== $$t"; JCSTAR=$(CURDIR)/$(B)/jcstar $$t; \
	  echo "== $$t (ASan+UBSan)"; ASAN_OPTIONS=detect_leaks=1 \
	    JCSTAR=$(CURDIR)/$(B)/asan/jcstar $$t; done

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

# One table (tests/bench.c, scripts/bench-api), appended to bench/results.md
# with the machine's description (scripts/bench-report). Takes minutes: the
# 1,000,000-unit batch (BENCH_BATCH_ROWS=0 skips it).
bench: deps
	@$(MAKE) --no-print-directory all $(B)/bench
	@scripts/bench-report $(B)

$(B)/bench: tests/bench.c $(B)/libjcstar.a
	$(CC) $(ALL_CFLAGS) -Ilibjcstar -o $@ $< $(B)/libjcstar.a $(DEP_LIBS)

# ---- fuzzing (clang's libFuzzer; docs/FUZZING.md) ----
# make fuzz FUZZ_TIME=SECONDS runs every target (tests/fuzz/fuzz_*.c) for
# that long each; make check runs each for 30 s.
FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
       -DJCS_REENCODE_CHECK \
       -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 \
       $(DEP_CFLAGS) -DJCS_DATADIR='"$(DATADIR)"' $(FUZZ_SAN)
FUZZ_NAMES = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJ = $(LIB_SRC:libjcstar/%.c=$(B)/fuzz/lib/%.o) \
       $(B)/fuzz/lib/builtin.o

$(B)/fuzz/lib/%.o: libjcstar/%.c $(wildcard libjcstar/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(B)/fuzz/lib/builtin.o: $(B)/gen/builtin.c $(wildcard libjcstar/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ilibjcstar -c $< -o $@

$(B)/fuzz/libjcstar.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(B)/fuzz/libjcstar.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilibjcstar -o $@ $< \
	    $(B)/fuzz/libjcstar.a $(DEP_LIBS)

# jcstar serve's request handling: the command's files with main() renamed
# (fuzz_http.c includes cmd_serve.c itself, for its static server state;
# it calls libmicrohttpd itself too, so it links it)
FUZZ_CLI_SRC = $(filter-out cli/cmd_serve.c,$(CLI_SRC))
$(B)/fuzz/fuzz_http: tests/fuzz/fuzz_http.c $(CLI_SRC) cli/cli.h \
    $(B)/fuzz/libjcstar.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ilibjcstar -Icli \
	    $$($(PKG_CONFIG) --cflags $(CLI_PKGS)) -Dmain=jcstar_cli_main \
	    -o $@ $< $(FUZZ_CLI_SRC) $(B)/fuzz/libjcstar.a $(DEP_LIBS) \
	    $$($(PKG_CONFIG) --libs $(CLI_PKGS)) -pthread

fuzz-build: $(FUZZ_NAMES:%=$(B)/fuzz/%) $(B)/jcstar

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz $(FUZZ_TIME)

# Static analysis: cppcheck and clang-tidy, zero findings (scripts/analyze;
# configuration and the reasons for every suppression: .clang-tidy,
# tests/cppcheck.supp).
analyze: $(B)/gen/builtin.c
	@scripts/analyze

# The CLI tests once more with jcstar under valgrind memcheck: zero errors,
# zero definite leaks (scripts/test-valgrind), every script, two at a time.
# make check runs the same, one job per script (check/valgrind/S).
# test-valgrind-full is the old name, kept.
test-valgrind test-valgrind-full: $(B)/jcstar $(B)/tests/make_qr_png
	@echo "== every CLI test under valgrind memcheck"
	@scripts/test-valgrind

# every fuzz target for 30 s, two at a time (make check runs the same, one
# job per target: check/fuzz/T)
test-fuzz: fuzz-build
	@echo "== fuzz targets, 30 s each"
	@scripts/fuzz 30

# Regenerates the committed test vectors (tests/vectors/README.md).
vectors: $(B)/tests/gen_vectors
	$(B)/tests/gen_vectors tests/vectors

$(B)/tests/gen_vectors: tests/gen_vectors.c $(B)/libjcstar.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilibjcstar -o $@ $< $(B)/libjcstar.a $(DEP_LIBS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/certs
	install -m 755 $(B)/jcstar $(DESTDIR)$(BINDIR)/jcstar
	install -m 644 $(B)/libjcstar.a $(DESTDIR)$(LIBDIR)/libjcstar.a
	install -m 755 $(B)/libjcstar.so.$(SOVERSION) \
	    $(DESTDIR)$(LIBDIR)/libjcstar.so.$(SOVERSION)
	ln -sf libjcstar.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libjcstar.so
	install -m 644 libjcstar/jcstar.h $(DESTDIR)$(INCLUDEDIR)/jcstar.h
	@# written here, so that it names the PREFIX given to make install
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' \
	  'includedir=$(INCLUDEDIR)' '' 'Name: jcstar' \
	  'Description: verifiable IoT security labels (JC-STAR and sister schemes)' \
	  'Version: $(VERSION)' 'Requires.private: $(DEP_PKGS)' \
	  'Libs: -L$${libdir} -ljcstar' 'Libs.private: -pthread' \
	  'Cflags: -I$${includedir}' \
	  > $(DESTDIR)$(LIBDIR)/pkgconfig/jcstar.pc
	install -m 644 docs/jcstar.1 $(DESTDIR)$(MANDIR)/man1/jcstar.1
	install -m 644 certs/*.profile certs/*.conf $(DESTDIR)$(DATADIR)/certs/
	install -d $(DESTDIR)$(DATADIR)/certs/schemes
	install -m 644 certs/schemes/*.scheme $(DESTDIR)$(DATADIR)/certs/schemes/
	install -d $(DESTDIR)$(DATADIR)/web/vendor
	install -m 644 web/index.html web/app.js web/verifier.js web/i18n.js \
	    web/sw.js web/style.css $(DESTDIR)$(DATADIR)/web/
	[ ! -f web/vendor/jsQR.js ] || install -m 644 web/vendor/jsQR.js \
	    $(DESTDIR)$(DATADIR)/web/vendor/
	install -d $(DESTDIR)$(DATADIR)/templates
	for f in templates/*.tmpl; do [ -e "$$f" ] || continue; \
	  install -m 644 "$$f" $(DESTDIR)$(DATADIR)/templates/; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/jcstar $(DESTDIR)$(LIBDIR)/libjcstar.a \
	    $(DESTDIR)$(LIBDIR)/libjcstar.so.$(SOVERSION) \
	    $(DESTDIR)$(LIBDIR)/libjcstar.so $(DESTDIR)$(INCLUDEDIR)/jcstar.h \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/jcstar.pc \
	    $(DESTDIR)$(MANDIR)/man1/jcstar.1
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf $(B)
