// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libktracer.hpp's RAII guard, built with g++ against the library and
 * the stand-in kernel (fake.c): guards nest, end with their scope
 * (returns and exceptions included), and a guard whose begin failed makes
 * no end. Prints TAP.
 */
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <libktracer.hpp>

#include "fake.h"

static int failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		failed++;						\
		std::fprintf(stderr, "# %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	}								\
} while (0)

static void inner(struct ktracer *t, uint32_t ev, bool fail)
{
	ktracer_region r(t, ev, "inner");

	CHECK(r.error() == 0);
	if (fail)
		throw std::runtime_error("failed");
}

int main()
{
	struct ktracer_state state;
	struct ktracer *t;
	struct fake f;
	uint32_t outer, in;

	std::printf("TAP version 13\n1..1\n");
	fake_init(&f);
	if (fake_tracer(&f, nullptr, &t, &state))
		return 1;
	CHECK(!ktracer_declare(t, "outer", KTRACER_KIND_SPAN, 0, &outer));
	CHECK(!ktracer_declare(t, "inner", KTRACER_KIND_SPAN, 0, &in));
	{
		ktracer_region r(t, outer);

		inner(t, in, false);
		try {
			inner(t, in, true);
		} catch (const std::runtime_error &) {
		}
		/* Begun twice on this thread: EBUSY, and no end. */
		ktracer_region again(t, outer);
		CHECK(again.error() == -EBUSY);
	}
	{
		ktracer_region none(nullptr, outer);	/* untraced */
		CHECK(none.error() == 0);
	}
	CHECK(ktracer_region_end(t, outer) == -ENOENT);
	CHECK(!ktracer_flush(t));
	/* outer START, (inner START, STOP) x 2, outer STOP */
	CHECK(f.nlog == 6);
	if (f.nlog == 6) {
		CHECK(f.log[0].event == outer && f.log[0].op == KTRACER_OP_START);
		CHECK(f.log[1].len == 5 && !std::memcmp(f.log[1].text, "inner", 5));
		CHECK(f.log[4].event == in && f.log[4].op == KTRACER_OP_STOP);
		CHECK(f.log[5].event == outer && f.log[5].op == KTRACER_OP_STOP);
		CHECK(f.log[5].flags == KTRACER_OPF_REGION);
	}
	CHECK(f.refused == 0);
	CHECK(!ktracer_close(t));
	fake_fini(&f);
	std::printf("%s 1 ktracer_region: nests, ends with its scope and on throw\n",
		    failed ? "not ok" : "ok");
	return failed ? 1 : 0;
}
