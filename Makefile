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

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h)

selftests:
	$(MAKE) -C selftests/ktracer KSFT_INC=$(KSFT_INC) OUTPUT=$(CURDIR)/build/selftests

setup:
	scripts/setup.sh

lint:
	scripts/lint.sh

# lint + uapi + kselftests in qemu on Debian's kernel and on the debug kernel
check:
	scripts/check.sh

check-debian:
	scripts/check.sh lint uapi debian

check-debug:
	scripts/check.sh debug

# ns per op of ktracer's ops next to getppid() and trace_marker, and what
# recording the scheduler adds to a pipe round trip next to ftrace, in qemu
bench:
	scripts/bench.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build

help:
	@echo 'make               build ktracer.ko (KDIR=... for another kernel)'
	@echo 'make install       modules_install + depmod'
	@echo 'make check         lint, then kselftests in qemu on Debian'"'"'s and the debug kernel'
	@echo 'make check-debian  lint + kselftests on Debian'"'"'s kernel only'
	@echo 'make check-debug   kselftests on the debug kernel only (KASAN, lockdep, kmemleak)'
	@echo 'make lint          checkpatch --strict, sparse C=2, W=1'
	@echo 'make bench         ns/op of span ops, batches and the disabled path vs getppid and trace_marker,'
	@echo '                   and the scheduler'"'"'s tracing cost vs ftrace'"'"'s sched_switch, in qemu'
	@echo 'make selftests     build the kselftests into build/selftests'
	@echo 'make setup         install and cache everything the above need'

.PHONY: all module install selftests setup lint check check-debian check-debug bench clean help
