// SPDX-License-Identifier: GPL-2.0
/* ktracer-read: names of processes, threads and tracks (model_int.h). */

#include <stdio.h>
#include <string.h>

#include "model_int.h"

void kr_meta(struct kr_model *m, const char *what, uint32_t pid,
		    uint32_t tid, const void *name, size_t len)
{
	struct kr_ev ev;

	kr_ev_init(&ev, KR_PH_META, pid, tid, 0, NULL);
	kr_ev_name(&ev, what, strlen(what));
	kr_ev_str(&ev, "name", name, (uint32_t)len);
	kr_emit(m, &ev);
}

void kr_meta_sort(struct kr_model *m, const char *what, uint32_t pid,
			 uint32_t tid, int64_t index)
{
	struct kr_ev ev;

	kr_ev_init(&ev, KR_PH_META, pid, tid, 0, NULL);
	kr_ev_name(&ev, what, strlen(what));
	kr_ev_arg(&ev, "sort_index", KR_ARG_S64, (uint64_t)index);
	kr_emit(m, &ev);
}

static void kr_comm_lookup(struct kr_model *m, uint32_t pid, uint32_t tid,
			   struct kr_thread *t)
{
	char buf[KTRACER_COMM_MAX];
	int n;

	if (t->flags & (KR_TH_COMM | KR_TH_LOOKED))
		return;
	t->flags |= KR_TH_LOOKED;
	if (!m->cfg.comm)
		return;
	n = m->cfg.comm(m->cfg.ctx, pid, tid, buf);
	if (n < 0)
		return;
	t->len = (uint8_t)(n < KTRACER_COMM_MAX ? n : KTRACER_COMM_MAX);
	memcpy(t->comm, buf, t->len);
	t->flags |= KR_TH_COMM;
}

/*
 * Thread @tid of @pid has a track (@flag KR_TH_THREAD; @what
 * "thread_name"), or process @pid has events (KR_TH_PROCESS, tid == pid,
 * "process_name"), and @recent, the cache of who was named lately, does
 * not have it: name it once.
 */
void kr_name_once(struct kr_model *m, uint32_t pid, uint32_t tid,
		  uint8_t flag, const char *what, uint32_t *recent)
{
	struct kr_thread *t;

	recent[tid & 255] = tid + 1;
	t = kr_map_put(&m->threads, tid, NULL);
	if (t->flags & flag)
		return;
	t->flags |= flag;
	kr_comm_lookup(m, pid, tid, t);
	if (t->flags & KR_TH_COMM)
		kr_meta(m, what, pid, tid, t->comm, t->len);
}

/* A kernel record told a thread's comm: rename what was named otherwise. */
void kr_set_comm(struct kr_model *m, uint32_t pid, uint32_t tid,
			const unsigned char *comm, uint32_t len)
{
	struct kr_thread *t = kr_map_put(&m->threads, tid, NULL);

	if (len > KTRACER_COMM_MAX)
		len = KTRACER_COMM_MAX;
	if ((t->flags & KR_TH_COMM) && t->len == len &&
	    !memcmp(t->comm, comm, len))
		return;
	memcpy(t->comm, comm, len);
	t->len = (uint8_t)len;
	t->flags |= KR_TH_COMM;
	if (!m->trace)
		return;
	if (t->flags & KR_TH_THREAD)
		kr_meta(m, "thread_name", pid, tid, t->comm, t->len);
	if (tid == pid && (t->flags & KR_TH_PROCESS))
		kr_meta(m, "process_name", pid, pid, t->comm, t->len);
}

void kr_name_kernel(struct kr_model *m)
{
	if (m->kernel_named)
		return;
	m->kernel_named = true;
	kr_meta(m, "process_name", KR_KERNEL_PID, KR_KERNEL_PID, "kernel", 6);
	kr_meta_sort(m, "process_sort_index", KR_KERNEL_PID, KR_KERNEL_PID, -1);
}
