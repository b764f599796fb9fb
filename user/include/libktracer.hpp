/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libktracer for C++: libktracer.h, plus ktracer_region, an RAII guard
 * around ktracer_region_begin() and ktracer_region_end(). Header-only.
 *
 *	#include <libktracer.hpp>
 *
 *	void handle(struct ktracer *t, uint32_t req, const char *url)
 *	{
 *		ktracer_region r(t, req, url);	// ends with the scope,
 *		...				// exceptions included
 *	}
 *
 * (The class is not in a namespace "ktracer": C++ would not have both it
 * and struct ktracer.) A guard whose begin failed (r.error() != 0, see ktracer_region_begin())
 * makes no end. Guards nest like the scopes that hold them, which is the
 * LIFO order regions need; a guard cannot be copied or moved (ending a
 * region elsewhere would break that order).
 */
#ifndef LIBKTRACER_HPP
#define LIBKTRACER_HPP

#include <libktracer.h>

class ktracer_region {
public:
	ktracer_region(struct ktracer *t, uint32_t event,
	       const char *text = nullptr) noexcept
		: t_(t), event_(event),
		  err_(ktracer_region_begin(t, event, text))
	{
	}

	~ktracer_region()
	{
		if (!err_)
			(void)ktracer_region_end(t_, event_);
	}

	ktracer_region(const ktracer_region &) = delete;
	ktracer_region &operator=(const ktracer_region &) = delete;

	/* ktracer_region_begin()'s result: 0, or -errno (no region). */
	int error() const noexcept { return err_; }

private:
	struct ktracer *t_;
	uint32_t event_;
	int err_;
};

#endif /* LIBKTRACER_HPP */
