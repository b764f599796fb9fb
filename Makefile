# SPDX-License-Identifier: GPL-2.0
#
# ktracer's front door. `make help` lists the targets.
#
# Without KDIR, everything builds against Debian's linux-headers-amd64,
# which scripts/setup.sh installs (with the VM rig's other needs) on first
# use. On a machine that runs the kernel you build for:
#	make KDIR=/lib/modules/$(uname -r)/build
#	sudo make KDIR=/lib/modules/$(uname -r)/build install

KTRACER_CACHE ?= $(HOME)/.cache/ktracer
export KTRACER_CACHE

ifeq ($(origin KDIR),undefined)
-include $(KTRACER_CACHE)/env.mk
$(KTRACER_CACHE)/env.mk: scripts/setup.sh
	scripts/setup.sh
KDIR := $(KT_KDIR)
endif

KSFT_INC ?= $(KT_KSRC)/tools/testing/selftests
PREFIX ?= /usr/local

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h)

selftests:
	$(MAKE) -C selftests/ktracer KSFT_INC=$(KSFT_INC) OUTPUT=$(CURDIR)/build/selftests

setup:
	scripts/setup.sh

lint:
	scripts/lint.sh

# lint + uapi + kselftests in qemu on Debian 12's 6.1 and 6.12, sid's newest
# kernel and the debug kernel
check:
	scripts/check.sh

check-debian:
	scripts/check.sh lint uapi debian

check-debug:
	scripts/check.sh debug

check-user:
	scripts/check.sh user

check-demo:
	scripts/check.sh demo

# the full-length fuzzers, stress and load/unload runs (make check runs
# them shortened)
stress:
	scripts/check.sh stress

# libktracer and ktracer-read, in build/lib and build/read
user:
	$(MAKE) -C user/lib O=$(CURDIR)/build/lib
	$(MAKE) -C user/read B=$(CURDIR)/build/read

install-user: user
	$(MAKE) -C user/lib O=$(CURDIR)/build/lib PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) install
	install -D -m 755 build/read/ktracer-read $(DESTDIR)$(PREFIX)/bin/ktracer-read
	ln -f $(DESTDIR)$(PREFIX)/bin/ktracer-read $(DESTDIR)$(PREFIX)/bin/ktracer

# the whole thing in the VM: trace.json and the StatsD lines in demo/
demo:
	scripts/demo.sh

# docs/timeline.png: demo/trace.json in the Chrome DevTools Performance
# panel, headless Chromium; not part of make check
screenshot:
	scripts/screenshot.sh

# a program of yours recorded in the VM: make run PROG=path/to/static-binary
# ARGS="..." [KVER=...] [OUT=dir]; the files in build/run/<prog>-<time>/
run:
	scripts/run.sh

# guest instructions (qemu -icount) and TCG time per op of ktracer's ops
# next to getppid(), an unknown ioctl and trace_marker, and what recording
# the scheduler adds to a pipe round trip next to ftrace, in qemu; not
# part of make check
bench:
	scripts/bench.sh

# ktracer next to ftrace, LTTng and perf on the same workloads, in one
# qemu -icount boot (LTTng and perf from Debian's packages, installed when
# it runs); not part of make check
bench-peers:
	scripts/bench-peers.sh

# where one of bench/ops_bench.c's ops spends its guest instructions,
# function by function (a qemu plugin counts them): make prof OP=queue_op
prof:
	scripts/prof.sh $(OP) $(UNITS)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build

help:
	@echo 'make run PROG=...  record a static program in qemu: trace.json, StatsD, trace text in build/run/'
	@echo 'make demo          build all, run a demo app under ktracer in qemu: demo/trace.json + StatsD lines'
	@echo 'make               build ktracer.ko (KDIR=... for another kernel)'
	@echo 'make user          libktracer and ktracer-read (build/lib, build/read)'
	@echo 'make install-user  install libktracer (headers, libs, .pc) and ktracer-read'
	@echo 'make install       modules_install + depmod'
	@echo 'make check         lint, host tests, kselftests in qemu on Debian'"'"'s 6.1, 6.12 and sid kernels and the debug kernel, the demo'
	@echo 'make check-user    libktracer and ktracer-read host tests'
	@echo 'make check-demo    make demo, and its output checked by DevTools'"'"' trace engine and statsd'
	@echo 'make check-debian  lint + kselftests on Debian'"'"'s kernel only'
	@echo 'make check-debug   kselftests on the debug kernel only (KASAN, lockdep, kmemleak)'
	@echo 'make stress        the full-length ioctl fuzzer, stress and load/unload runs, and the reader fuzzer'
	@echo 'make lint          checkpatch --strict, sparse C=2, W=1'
	@echo 'make bench         guest instructions (qemu -icount) and TCG ns per op of ktracer'"'"'s ops vs getppid,'
	@echo '                   an unknown ioctl and trace_marker, and the scheduler'"'"'s tracing cost vs ftrace'"'"'s, in qemu'
	@echo 'make bench-peers   ktracer vs ftrace, LTTng (kernel, UST) and perf: guest instructions per kernel event'
	@echo '                   (sched switch/waking, syscall entry/exit) and per program event, in one qemu -icount boot'
	@echo 'make prof OP=op    guest instructions per op of one of ops_bench'"'"'s ops, by function (kernel, ktracer.ko, program)'
	@echo 'make screenshot    docs/timeline.png: demo/trace.json in the DevTools Performance panel (headless Chromium)'
	@echo 'make selftests     build the kselftests into build/selftests'
	@echo 'make setup         install and cache everything the above need'

.PHONY: all module install selftests setup lint check check-debian check-debug run \
	check-user check-demo stress user install-user demo screenshot bench bench-peers prof \
	clean help
