# migr: schema migrations kept inside the database they migrate.
#
# The PGXS part needs pg_config; "make demo" and "make test" work on a
# machine where PostgreSQL is not installed yet (they install it).

MODULE_big = migr
OBJS = \
	src/migr.o \
	src/args.o \
	src/catalog.o \
	src/checksum.o \
	src/graph.o \
	src/target.o \
	src/script.o \
	src/revfile.o \
	src/apply.o \
	src/job.o \
	src/worker.o \
	src/define.o \
	src/move.o \
	src/look.o
OBJS += src/lint.o src/archive.o
OBJS += src/lockpolicy.o
OBJS += src/undefine.o
OBJS += src/noop.o
# the revision-file format, compiled into the client too (src/bin/Makefile)
COMMON_OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/common/*.c)))
OBJS += $(COMMON_OBJS)
# subsystems with folders of their own: the schema model, tenants
OBJS += $(patsubst %.c,%.o,$(sort $(wildcard src/schema/*.c src/tenant/*.c)))

EXTENSION = migr
DATA = src/migr--1.0.sql src/migr--1.0--1.1.sql src/migr--1.1--1.2.sql
PGFILEDESC = "migr - schema migrations inside PostgreSQL"

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=migr

ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=migr

TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers

# Debian's PostgreSQL 15 when it is there, else whatever pg_config is on PATH.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(PGXS),)
include $(PGXS)
# after the include: Makefile.global empties PROVE_FLAGS
PROVE_FLAGS += -I ./test/t

# PGXS tracks no header dependencies: every object depends on our headers
$(OBJS) $(OBJS:.o=.bc): src/migr.h $(wildcard src/common/*.h src/schema/*.h src/tenant/*.h)

# The command-line client (src/bin/Makefile): built, installed, uninstalled
# and cleaned with the extension.
all: client
install: install-client
uninstall: uninstall-client
clean: clean-client
client:
	$(MAKE) -C src/bin PG_CONFIG=$(PG_CONFIG)
install-client: client
	$(MAKE) -C src/bin install PG_CONFIG=$(PG_CONFIG)
uninstall-client:
	$(MAKE) -C src/bin uninstall PG_CONFIG=$(PG_CONFIG)
clean-client:
	$(MAKE) -C src/bin clean PG_CONFIG=$(PG_CONFIG)
.PHONY: client install-client uninstall-client clean-client
else
all install installcheck:
	@echo "PostgreSQL 15 and its server headers are not installed: run 'make demo' or 'make test', which install them" >&2
	@exit 1
endif

.PHONY: demo test bench
demo:
	bash tools/demo.sh
test:
	bash tools/test.sh
bench:
	bash bench/history.sh
