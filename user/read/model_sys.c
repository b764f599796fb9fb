// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: system calls, on their thread's own track (model_int.h). */

#include <stdio.h>
#include <string.h>

#include "model_int.h"
#include "syscalls.h"	/* generated from <asm/unistd.h>: kr_syscall_names[] */

static size_t kr_syscall_name(uint64_t nr, char *buf, size_t size,
			      const char **name)
{
	size_t n = sizeof(kr_syscall_names) / sizeof(kr_syscall_names[0]);

	if (nr < n && kr_syscall_names[nr]) {
		*name = kr_syscall_names[nr];
		return strlen(*name);
	}
	*name = buf;
	return (size_t)snprintf(buf, size, "syscall %llu",
				(unsigned long long)nr);
}

static void kr_sys_emit(struct kr_model *m, uint32_t tid, struct kr_sys *s,
			uint64_t end, const struct ktracer_record *r,
			const char *why)
{
	const char *name;
	struct kr_ev ev;
	char buf[32];
	size_t len;

	if (end < s->start)
		end = s->start;
	s->open = 0;
	s->last_end = end;
	if (!m->trace)
		return;
	kr_name_thread(m, s->pid, tid);
	kr_ev_span(&ev, s->pid, tid, s->start, end, "syscall");
	len = kr_syscall_name(s->nr, buf, sizeof(buf), &name);
	kr_ev_name(&ev, name, len);
	kr_ev_arg(&ev, "nr", KR_ARG_U64, s->nr);
	if (r)
		kr_ev_arg(&ev, "ret", KR_ARG_S64, r->arg);
	if (why)
		kr_ev_arg(&ev, why, KR_ARG_TRUE, 0);
	kr_emit_pair(m, &ev);
}

/* exit() and exit_group() never return: no STOP ends them. */
static bool kr_sys_noreturn(uint64_t nr)
{
	const char *name;
	char buf[32];

	kr_syscall_name(nr, buf, sizeof(buf), &name);
	return !strcmp(name, "exit") || !strcmp(name, "exit_group");
}

void kr_sys_exited(struct kr_model *m, uint32_t tid, uint64_t ts)
{
	struct kr_sys *s = kr_map_get(&m->sys, tid);

	if (s && s->open && kr_sys_noreturn(s->nr))
		kr_sys_emit(m, tid, s, ts, NULL, "exited");
}

/*
 * A thread's call dropped from a full table is not drawn: its track is the
 * thread's own, where a call read later might overlap it.
 */
void kr_sys_evicted(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;
	struct kr_sys *s = val;

	(void)key;
	if (s->open)
		m->st.evicted++;
}

void kr_syscall(struct kr_model *m, const struct ktracer_record *r)
{
	struct kr_sys *s;
	uint64_t start;

	if (r->type == KTRACER_REC_START) {
		s = kr_map_put(&m->sys, r->tid, NULL);
		if (s->open)
			kr_sys_emit(m, r->tid, s, r->ts, NULL, "stop_lost");
		if (r->ts < s->last_end) {
			m->st.skipped[KR_BAD_OVERLAP]++;	/* out of order */
			return;
		}
		s->open = 1;
		s->start = r->ts;
		s->nr = r->arg;
		s->pid = r->pid;
		return;
	}
	if (r->type != KTRACER_REC_STOP) {
		m->st.skipped[KR_BAD_KIND]++;
		return;
	}
	s = kr_map_get(&m->sys, r->tid);
	if (!s || !s->open) {
		m->st.skipped[KR_BAD_UNPAIRED]++;
		return;
	}
	start = s->start;
	kr_sys_emit(m, r->tid, s, r->ts, r, NULL);
	m->st.spans++;
	if (m->cfg.sink.span)
		m->cfg.sink.span(m->cfg.sink.ctx, r->event,
				 kr_evname(m, r->event), s->pid,
				 kr_dur(r->ts, start));
}

static void kr_sys_open_at_end(void *ctx, uint64_t key, void *val)
{
	struct kr_model *m = ctx;
	struct kr_sys *s = val;

	if (!s->open)
		return;
	if (kr_sys_noreturn(s->nr)) {
		/* its task.exit was not recorded: an instant where it began */
		kr_sys_emit(m, (uint32_t)key, s, s->start, NULL, "no_return");
		return;
	}
	m->st.open_at_end++;
	kr_sys_emit(m, (uint32_t)key, s, m->last_ts, NULL, "open");
}

void kr_sys_finish(struct kr_model *m)
{
	kr_map_each(&m->sys, kr_sys_open_at_end, m);
}
