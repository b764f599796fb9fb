// SPDX-License-Identifier: GPL-2.0
/*
 * Queues whose entries carry the x86 TSC as their ts (KTRACER_QUEUE_TSC):
 * whether the kernel can convert it, and the anchors a drain converts
 * with. See "The TSC clock" in uapi/linux/ktracer.h for the accuracy.
 *
 * A drain takes two anchors (the TSC and CLOCK_MONOTONIC, read together):
 * one when it begins, its cut, and one once it has read the queues'
 * heads, so that every entry published before is at or before it. It
 * converts each entry's tsc as ns - (tsc_anchor - tsc) * rate, from the
 * latest anchor before it: two compares, a subtraction and one
 * mul_u64_u64_shr() by a constant shift per entry (kt_tsc_ns()). Between the two anchors the
 * rate is the one measured between them; before the cut, the one
 * measured from an earlier drain's anchor 1 ms to 10 s older, else the
 * kernel's calibrated tsc_khz.
 */

#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/timekeeping.h>
#ifdef CONFIG_X86
#include <asm/cpufeature.h>
#include <asm/tsc.h>
#endif

#include "ktracer.h"

static bool trust_tsc;
module_param(trust_tsc, bool, 0444);
MODULE_PARM_DESC(trust_tsc, "make TSC queues without constant_tsc and nonstop_tsc (virtual machines that hide them; default N)");

/* tsc_khz as ns per cycle, KT_TSC_SHIFT fixed point; 0: no TSC to use. */
static u64 kt_tsc_mult;

/* The span a measured rate needs, and the oldest anchor it may use. */
#define KT_TSC_REF_MIN	NSEC_PER_MSEC
#define KT_TSC_REF_MAX	(10 * NSEC_PER_SEC)

#ifdef CONFIG_X86
void kt_clock_init(void)
{
	/*
	 * ns per cycle: 10^6 ns a ms over tsc_khz cycles a ms. 32 bits of
	 * fraction are as fine as the kernel's cyc2ns for any TSC above
	 * 1 GHz, finer below; mul_u64_u64_shr() multiplies in 128 bits.
	 */
	if (tsc_khz)
		kt_tsc_mult = div_u64((u64)NSEC_PER_MSEC << KT_TSC_SHIFT,
				      tsc_khz);
}

/*
 * Hypervisors often hide the invariant TSC's flags from their guests
 * while giving them a TSC that is constant-rate and non-stop all the
 * same: trust_tsc is the administrator's word for it. The kernel's own
 * verdict (unstable, unknown frequency) still stands.
 */
bool kt_tsc_usable(void)
{
	bool invariant = boot_cpu_has(X86_FEATURE_CONSTANT_TSC) &&
			 boot_cpu_has(X86_FEATURE_NONSTOP_TSC);

	return boot_cpu_has(X86_FEATURE_TSC) && (invariant || trust_tsc) &&
	       !check_tsc_unstable() && tsc_khz && kt_tsc_mult;
}

/* A pair read within this is taken at once; else the tightest of a few. */
#define KT_TSC_PAIR_NS		250
#define KT_TSC_PAIR_TRIES	4

/*
 * The TSC and CLOCK_MONOTONIC at the same moment: the TSC between two
 * reads of the clock, taken as their middle, with nothing in between
 * but their own cost (interrupts off; an NMI, or a hypervisor that stops
 * the CPU, can still come in between: then the tightest of a few tries).
 * Not earlier than the first read of the clock: the drain's "now".
 */
static u64 kt_tsc_read(u64 *ns)
{
	u64 tsc, ns1, ns2, best_tsc = 0, best = U64_MAX;
	unsigned long flags;
	int i;

	for (i = 0; i < KT_TSC_PAIR_TRIES; i++) {
		local_irq_save(flags);
		ns1 = ktime_get_ns();
		tsc = rdtsc_ordered();
		ns2 = ktime_get_ns();
		local_irq_restore(flags);
		if (ns2 - ns1 < best) {
			best = ns2 - ns1;
			best_tsc = tsc;
			*ns = ns1 + best / 2;
		}
		if (best <= KT_TSC_PAIR_NS)
			break;
	}
	return best_tsc;
}
#else
void kt_clock_init(void)
{
}

bool kt_tsc_usable(void)
{
	return false;
}

static u64 kt_tsc_read(u64 *ns)
{
	*ns = ktime_get_ns();
	return 0;
}
#endif

/*
 * The rate (a mult, as kt_tsc_mult) between two anchors @dns ns and
 * @dtsc cycles apart, capped at @cap: a cap below the real rate keeps
 * every tsc after the first anchor converting to after it.
 */
static u64 kt_tsc_rate(u64 dns, u64 dtsc, u64 cap)
{
	u64 est = mul_u64_u64_shr(dtsc, kt_tsc_mult, KT_TSC_SHIFT);

	/* dns < 2 * est: the quotient is below 2 * kt_tsc_mult, and fits. */
	if (!dtsc || dns >= 2 * est)
		return cap;
	return min(cap, mul_u64_u64_div_u64(dns, 1ULL << KT_TSC_SHIFT, dtsc));
}

/*
 * The drain begins (before it reads the heads): the first anchor, the
 * cut; returns its ns, the drain's "cut". An entry's tsc after the cut's
 * converts to a ts after the cut's ns, and one at or before it to one at
 * or before it, whatever the rates: a drain's cut means the same for
 * TSC queues as for the others. The older entries convert by the rate
 * from the reference anchor, the previous drain's second one when it is
 * 1 ms to 10 s older (exact at both ends), else by tsc_khz.
 */
u64 kt_tsc_cut(struct kt_tsc *c)
{
	u64 ns, tsc, dns;

	if (!kt_tsc_mult)
		return ktime_get_ns();
	tsc = kt_tsc_read(&ns);
	if (c->ns && ns - c->ns >= KT_TSC_REF_MIN) {
		c->ref_tsc = c->tsc;
		c->ref_ns = c->ns;
	}
	c->cut_tsc = tsc;
	c->cut_ns = ns;
	c->mult = kt_tsc_mult;
	dns = ns - c->ref_ns;
	/* Within 1/64 of tsc_khz's rate, or something is wrong: tsc_khz. */
	if (c->ref_ns && dns >= KT_TSC_REF_MIN && dns <= KT_TSC_REF_MAX &&
	    tsc > c->ref_tsc) {
		u64 est = mul_u64_u64_shr(tsc - c->ref_tsc, kt_tsc_mult,
					  KT_TSC_SHIFT);

		if (dns < est + (est >> 6) && est < dns + (dns >> 6))
			c->mult = kt_tsc_rate(dns, tsc - c->ref_tsc,
					      2 * kt_tsc_mult);
	}
	/*
	 * The oldest age that converts to a ts of 1 or more:
	 * mul_u64_u64_shr(max, mult, KT_TSC_SHIFT) <= ns - 1 (the quotient
	 * is ns in cycles, and fits). Below the cut's tsc, so that a tsc of
	 * 0 is too old without a test of its own (a TSC read at a drain is
	 * never 0: it has counted since the CPU's reset).
	 */
	c->max = min(mul_u64_u64_div_u64(ns - 1, 1ULL << KT_TSC_SHIFT, c->mult),
		     tsc - 1);
	return ns;
}

/*
 * The heads are read: the second anchor, after every tsc published
 * before (a later one is in the future, and converts to 0); returns its
 * ns, the drain's "now". A tsc between the two anchors converts by the
 * rate between them, which is capped so that it stays after the cut.
 */
u64 kt_tsc_anchor(struct kt_tsc *c)
{
	u64 ns, tsc;

	if (!kt_tsc_mult)
		return ktime_get_ns();
	tsc = kt_tsc_read(&ns);
	c->tsc = tsc;
	c->ns = ns;
	c->new_mult = kt_tsc_rate(ns - c->cut_ns, tsc - c->cut_tsc,
				  2 * kt_tsc_mult);
	return ns;
}
