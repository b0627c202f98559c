# ltb: tracer benchmarks as Unix tools.
#
#   make                 install missing dependencies, build build/bin/ltb-*
#   make test            C unit tests and bats end-to-end tests, under prove
#   make bench           benchmarks, JSON-lines figures on stdout
#   make fuzz            libFuzzer targets (clang), FUZZ_SECONDS each
#   make demo            gates, graphs and report of the C client in ltb-demo/
#   make install         PREFIX=/usr/local DESTDIR= (tools, clients, manual pages)
#   make image-test      docker/Dockerfile built and run for real (needs root or an engine)
#   make B=build-san SANITIZER=address,undefined test
#
# Everything built lands in build/; nothing generated is committed.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SHAREDIR ?= $(PREFIX)/share/ltb
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
OPT ?= -O2 -g
WARN = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
B = build
PKGS = libmicrohttpd libcurl libprotobuf-c libcjson zlib
# pkg-config is asked when a recipe first needs the flags, not when this
# file is read: on a fresh machine the packages (and pkg-config itself) only
# exist once the deps target has run docker/deps.sh. Each is asked once per
# make, then kept (the $(eval) turns the variable into a simple one).
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $$(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell pkg-config --libs $$(PKGS)))$(PKG_LIBS)
ALL_CFLAGS = $(WARN) $(OPT) -D_GNU_SOURCE -pthread -Icommon -I$(B)/gen $(PKG_CFLAGS) $(CFLAGS)
# Dependency files live apart from what is built, out of build/bin.
DEPFLAGS = -MMD -MP -MF $(B)/dep/$(subst /,_,$@).d
ALL_LDFLAGS = -pthread $(LDFLAGS)
LIBS = $(PKG_LIBS) -lmbedtls -lmbedx509 -lmbedcrypto -lm

ifdef SANITIZER
ALL_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZER)
endif

# A protocol's .proto lives beside its code, at any depth under common/;
# protoc-c output goes to gen/ (so .proto names are unique).
PROTOS = $(shell find common -name '*.proto')
GEN_C = $(patsubst %.proto,$(B)/gen/%.pb-c.c,$(notdir $(PROTOS)))
GEN_H = $(GEN_C:.c=.h)
GEN_OBJ = $(patsubst $(B)/gen/%.c,$(B)/obj/gen/%.o,$(GEN_C))
# common/ is split by subsystem, a folder each (DESIGN.md). The reference
# tracer (common/client/) is a library of its own, with the protobuf-c code
# it packs with: the C clients, its unit test and its benchmark link it;
# the tools' library does not hold it.
CLIENT_SRC = $(wildcard common/client/*.c)
CLIENT_LIB = $(B)/libltbclient.a
LIB_SRC = $(filter-out $(CLIENT_SRC),$(wildcard common/*/*.c common/*/*/*.c))
LIB_OBJ = $(patsubst common/%.c,$(B)/obj/common/%.o,$(LIB_SRC)) $(GEN_OBJ)
LIB = $(B)/libltb.a

TOOLS = $(patsubst bin/%.c,$(B)/bin/%,$(wildcard bin/ltb-*.c))
UNIT = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
TEST_TOOLS = $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(wildcard tests/tools/*.c))
BENCH = $(patsubst tests/bench/%.c,$(B)/tests/bench/%,$(wildcard tests/bench/*.c))
# A client written in C: clients/NAME/*.c build into build/clients/NAME/client,
# which clients/NAME/run starts.
CLIENTS_C = $(sort $(patsubst clients/%/,%,$(dir $(wildcard clients/*/*.c))))
CLIENT_BINS = $(foreach c,$(CLIENTS_C),$(B)/clients/$(c)/client)
FUZZ = $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

all: deps $(TOOLS) $(TEST_TOOLS) $(CLIENT_BINS)

# The dependency script is quick when all is present; see docker/deps.sh.
# DEPS picks its set: all of it by default; the image's build stage says
# DEPS=--build (compilers and headers, none of the tests' packages).
# Every rule that builds something has deps as an order-only prerequisite,
# so that with -j nothing (protoc-c, cc, pkg-config) runs before the
# packages it needs are installed. The check after it fails here, by name,
# rather than at a link without the libraries.
DEPS ?=
deps:
	@docker/deps.sh $(DEPS)
	@pkg-config --print-errors --exists $(PKGS)

vpath %.proto $(sort $(dir $(PROTOS)))
$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: %.proto | deps
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen -I$(<D) $<

$(B)/obj/common/%.o: common/%.c $(GEN_H) | deps
	@mkdir -p $(@D)
	@mkdir -p $(B)/dep
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/obj/gen/%.o: $(B)/gen/%.c $(GEN_H) | deps
	@mkdir -p $(@D)
	@mkdir -p $(B)/dep
	$(CC) $(filter-out -Wshadow,$(ALL_CFLAGS)) $(DEPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ) | deps
	@rm -f $@
	ar rcs $@ $^

$(CLIENT_LIB): $(patsubst common/%.c,$(B)/obj/common/%.o,$(CLIENT_SRC)) \
    $(GEN_OBJ) | deps
	@rm -f $@
	ar rcs $@ $^

$(B)/bin/%: bin/%.c $(LIB) | deps
	@mkdir -p $(@D)
	@mkdir -p $(B)/dep
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

.SECONDEXPANSION:
$(B)/clients/%/client: $$(wildcard clients/%/*.c) $(CLIENT_LIB) $(LIB) | deps
	@mkdir -p $(@D) $(B)/dep
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c,$^) $(CLIENT_LIB) $(LIB) $(LIBS)

$(B)/tests/%: tests/unit/%.c $(CLIENT_LIB) $(LIB) | deps
	@mkdir -p $(@D)
	@mkdir -p $(B)/dep
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CLIENT_LIB) $(LIB) $(LIBS) -lcmocka

$(B)/tests/tools/%: tests/tools/%.c $(LIB) | deps
	@mkdir -p $(@D)
	@mkdir -p $(B)/dep
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(B)/tests/bench/%: tests/bench/%.c $(CLIENT_LIB) $(LIB) | deps
	@mkdir -p $(@D)
	@mkdir -p $(B)/dep
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CLIENT_LIB) $(LIB) $(LIBS)

# Fuzz targets link the library sources directly, built with clang's
# fuzzer and sanitizers, into their own tree so they never mix with $(LIB).
$(B)/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(GEN_C) | deps
	@mkdir -p $(@D)
	clang $(WARN) -O1 -g -D_GNU_SOURCE -pthread -Icommon -I$(B)/gen $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC) $(GEN_C) $(LIBS)

# fuzz_encode compares the tracer's encoder with protobuf-c's: it links
# those two files of the client library beside the generated code.
$(B)/fuzz/fuzz_encode: tests/fuzz/fuzz_encode.c common/client/ltb_encode.c \
    common/client/ltb_encode_pbc.c $(GEN_C) | deps
	@mkdir -p $(@D)
	clang $(WARN) -O1 -g -D_GNU_SOURCE -pthread -Icommon -I$(B)/gen $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -o $@ $(filter %.c,$^) $(LIBS)

# The bats helper finds the tools through LTB_BUILD, so a sanitizer build in
# its own tree (make B=build-san SANITIZER=...) tests its own binaries.
# MAKEFLAGS, and B and SANITIZER (make exports command-line variables), are
# dropped so tests that run make themselves (the CI and install tests) build
# a plain tree, not this one's.
# LTB_SANITIZED says which sanitizers the binaries carry, for the tests that
# measure CPU (a sanitizer multiplies the costs they measure).
# tests/respblast.bats tests the bench's RESP load itself.
test: all $(UNIT) $(B)/tests/bench/respblast
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u B -u SANITIZER LTB_BUILD=$(B) \
		LTB_SANITIZED=$(SANITIZER) \
		prove -f --comments -e tests/run-test $(UNIT) tests/*.bats

# Builds go to stderr so stdout carries only the JSON-lines figures.
bench:
	@$(MAKE) --no-print-directory all $(BENCH) >&2
	@tests/bench/run

# Each target's seeds: a protocol's in tests/fuzz/seeds/NAME/, all of them
# for the target over every protocol; the records' in seeds/records/,
# the satellite scripts' in seeds/script/, whole HTTP request streams in
# seeds/http/, spectatord datagrams (also a protocol's) in seeds/spectatord/.
# RESP request streams (a limit byte, then the stream) in seeds/resp/.
FUZZ_SEEDS_fuzz_report = tests/fuzz/seeds/lightstep
FUZZ_SEEDS_fuzz_lsthrift = tests/fuzz/seeds/lightstep_thrift
FUZZ_SEEDS_fuzz_atlas = tests/fuzz/seeds/atlas
FUZZ_SEEDS_fuzz_lsthrift_json = tests/fuzz/seeds/lightstep_thrift_json
FUZZ_SEEDS_fuzz_osprofiler = tests/fuzz/seeds/osprofiler
FUZZ_SEEDS_fuzz_protocols = $(filter-out tests/fuzz/seeds/records/ tests/fuzz/seeds/script/ tests/fuzz/seeds/http/,$(wildcard tests/fuzz/seeds/*/))
FUZZ_SEEDS_fuzz_http = tests/fuzz/seeds/http
FUZZ_SEEDS_fuzz_spectatord = tests/fuzz/seeds/spectatord
FUZZ_SEEDS_fuzz_records = tests/fuzz/seeds/records
FUZZ_SEEDS_fuzz_script = tests/fuzz/seeds/script
FUZZ_SEEDS_fuzz_resp = tests/fuzz/seeds/resp
fuzz: deps $(FUZZ)
	@set -e; $(foreach f,$(FUZZ), \
		mkdir -p $(B)/fuzz/corpus-$(notdir $(f)); \
		$(f) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(B)/fuzz/corpus-$(notdir $(f)) \
			$(or $(FUZZ_SEEDS_$(notdir $(f))),tests/fuzz/seeds);)

# The README's main job: from nothing, a short benchmark of the built-in
# client with the four gates checked, the four graphs and the HTML report,
# all in $(DEMO_OUT)/. A couple of minutes at the default scale.
DEMO_OUT ?= ltb-demo
DEMO_SCALE ?= 0.03
demo: all
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	@PATH="$(CURDIR)/$(B)/bin:$$PATH"; export PATH; status=0; \
	.circleci/gates.sh -c c -s $(DEMO_SCALE) -o $(DEMO_OUT)/gates || status=$$?; \
	for e in disconnect memory cpu dropped; do \
		.circleci/graphs.sh run $$e -c c -s $(DEMO_SCALE) -o $(DEMO_OUT) || status=$$?; \
	done; \
	.circleci/graphs.sh draw -o $(DEMO_OUT) -g $(DEMO_OUT)/gates || status=$$?; \
	echo "ltb demo: verdicts in $(DEMO_OUT)/gates, graphs and $(DEMO_OUT)/report.html (exit $$status)"; \
	exit $$status

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/clients
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7
	install -m 644 $(wildcard bin/ltb-*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 common/records/ltb-records.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 clients/ltb-client.7 $(DESTDIR)$(MANDIR)/man7
	for c in clients/*/; do \
		c=$${c%/}; install -d $(DESTDIR)$(SHAREDIR)/$$c; \
		for f in $$c/*; do case $$f in *.c|*.h|*/node_modules) ;; \
			*) cp -R $$f $(DESTDIR)$(SHAREDIR)/$$c/ ;; esac; done; \
		if [ -x $(B)/$$c/client ]; then \
			install -m 755 $(B)/$$c/client $(DESTDIR)$(SHAREDIR)/$$c/client; fi; \
	done

# The image built for real and run inside (tests/image/run): on the Docker
# engine that answers, or Debian's docker.io started for the run and stopped
# after; on a bookworm made with debootstrap where the registry's cannot be
# pulled. TAP under prove; a SKIP where no engine can run.
image-test:
	prove -v -f -e tests/run-test tests/image/run

clean:
	rm -rf $(B)

.PHONY: all deps test bench fuzz demo install image-test clean
.SECONDARY:

-include $(wildcard $(B)/dep/*.d)
