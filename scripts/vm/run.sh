#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh KERNEL INITRD OUTDIR [KERNEL-ARGS...]
# Boot the test VM under TCG (KVM does not work on these hosts) and leave
# OUTDIR/console.log (ttyS0: kernel and /init) and OUTDIR/results.log
# (ttyS1: what the verdict reads). A third port, ttyS2 (I/O 0x3e8), goes
# nowhere: it makes interrupts on demand (make bench-peers' irq workload),
# on IRQ 5 rather than the legacy IRQ 4, which it would share with the
# console, so that its interrupts are told apart in /proc/interrupts and
# its handler serves it alone (the kernel takes the IRQ from ACPI).
# KT_VM_ACCEL (qemu -accel, default tcg,thread=single), KT_VM_CPU (qemu
# -cpu, default max), KT_VM_MEM (MiB)
# KT_VM_TIMEOUT (s; default 2400, a bound for a hung VM only, room for
# a loaded host), KT_VM_SMP (vCPUs, default 2) and KT_VM_ICOUNT (qemu
# -icount, default none) adjust the VM. KT_VM_ICOUNT=shift=0,sleep=off
# makes the guest's clock an instruction counter (one virtual ns per
# guest instruction), which is what `make bench` counts with; qemu 7.2
# hung at "Booting SMP configuration" with it and 2 vCPUs, so it goes
# with KT_VM_SMP=1 (icount also needs the single-threaded TCG, the
# default accel). KT_VM_PLUGIN (qemu -plugin, default none) loads a TCG
# plugin: FILE.so,ARG=VALUE,... qemu's exit status means nothing: it
# exits 0 after oopses and panics too. Only the logs decide.
#
# One host thread runs both vCPUs by default. With a thread per vCPU
# (multi-threaded TCG), qemu sometimes went on executing a stale int3 on
# one vCPU after the kernel had finished rewriting a tracepoint's call
# site on the other (text_poke_bp(), when a source is switched on): the
# kernel's int3 handler finds no int3 in memory, resumes at the same
# address, and the vCPU loops there for good (soft lockups, RCU stalls in
# handle_softirqs(); 3 runs of the kselftests in 5). The vCPUs still take
# turns, and interrupt each other's code, as two CPUs do.
set -uo pipefail

kernel=$1 initrd=$2 out=$3
shift 3
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.log"
start=$(date +%s.%N)
icount=()
[ -z "${KT_VM_ICOUNT:-}" ] || icount=(-icount "$KT_VM_ICOUNT")
plugin=()
[ -z "${KT_VM_PLUGIN:-}" ] || plugin=(-plugin "$KT_VM_PLUGIN")
timeout -k 5 "${KT_VM_TIMEOUT:-2400}" qemu-system-x86_64 \
	-accel "${KT_VM_ACCEL:-tcg,thread=single}" -cpu "${KT_VM_CPU:-max}" \
	-smp "${KT_VM_SMP:-2}" "${icount[@]}" "${plugin[@]}" -m "${KT_VM_MEM:-1024}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 tsc=reliable $*" \
	-display none -monitor none -nic none -no-reboot \
	-serial "file:$out/console.log" -serial "file:$out/results.log" \
	-chardev null,id=kt_irq -device isa-serial,chardev=kt_irq,iobase=0x3e8,irq=5 \
	</dev/null >"$out/qemu.log" 2>&1
rc=$?
printf 'qemu rc=%d wall=%.1fs\n' "$rc" "$(echo "$(date +%s.%N) - $start" | bc)" > "$out/vm.info"
exit 0
