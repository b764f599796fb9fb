# SPDX-License-Identifier: GPL-2.0
# A small stand-in for tools/testing/selftests/lib.mk: builds TEST_GEN_PROGS
# from <name>.c into $(OUTPUT), statically, against kselftest_harness.h
# from Debian's linux-source (KSFT_INC) and ktracer's uapi header.
OUTPUT ?= $(CURDIR)
KSFT_INC ?= $(error KSFT_INC: directory holding kselftest_harness.h)
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS += -isystem $(KSFT_INC) -I$(TOP)/uapi
LDFLAGS += -static -pthread

all: $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))

$(OUTPUT)/%: %.c $(wildcard *.h) $(TOP)/uapi/linux/ktracer.h
	@mkdir -p $(OUTPUT)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)

clean:
	rm -f $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))

.PHONY: all clean
