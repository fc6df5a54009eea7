# msgcmd: the command side of a CQRS + event-sourced messaging service.
# `make run` and `make test` are the two commands a newcomer needs; both
# install what is missing first (target deps).

PKGS      := fcgi json-c libjwt libcrypto sqlite3 rdkafka
CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
             -Wmissing-prototypes -Wstrict-prototypes
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)
B         := build

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
PROGS     := $(patsubst cgi/%.c,$(B)/%,$(wildcard cgi/*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all deps run test unit lint clean kafka chaos
all: $(PROGS) $(UNIT_BIN)

deps:
	$(Q)scripts/deps.sh

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libmsgcmd.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/%: cgi/%.c $(B)/libmsgcmd.a
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Ilib -o $@ $< $(B)/libmsgcmd.a $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h $(B)/libmsgcmd.a
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -Ilib -o $@ $< \
		$(B)/libmsgcmd.a $(PKG_LIBS) $(CHECK_LIBS)

# Header discipline (STYLE.md habit 4): I/O headers stay in their files.
lint:
	$(Q)scripts/lint.sh

unit: all
	$(Q)tests/run-unit.sh $(UNIT_BIN)

kafka:
	$(Q)scripts/kafka.sh fetch

run: deps all
	$(Q)scripts/run.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all lint
	$(Q)tests/run.sh

# At least 20000 commands, 50 SIGKILLs, 3 broker restarts; prints figures.
chaos: deps all
	$(Q)tests/chaos/chaos.sh

clean:
	rm -rf $(B)

-include $(LIB_OBJ:.o=.d)
