// SPDX-License-Identifier: GPL-2.0
/*
 * ktracer-read's fuzzer (libFuzzer): an input (fuzz_read.h) lays out the
 * buffers of a mapping, corrupts them and moves their counters as it
 * pleases, and the reader's own code reads them: ring.c consumes, merge.c
 * merges, model.c models, json.c and statsd.c write. ASan and UBSan (made
 * fatal) catch memory and arithmetic errors; what the reader wrote is
 * then checked: the trace must be one valid JSON text (RFC 8259, by
 * kt_json.h, the kselftests' checker), every StatsD datagram no longer
 * than its limit and made of "name:value|type" lines.
 */

#include <stdio.h>
#include <stdlib.h>

#include "fuzz_read.h"
#include "pipeline.h"

struct kf_in {
	const uint8_t *p;
	size_t n;
};

static uint64_t kf_get(struct kf_in *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (in->n) {
			v |= (uint64_t)in->p[0] << (8 * i);
			in->p++;
			in->n--;
		}
	}
	return v;
}

/* @n bytes of input into @dst, zeros past its end. */
static void kf_bytes(struct kf_in *in, void *dst, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(dst, in->p, k);
	memset((char *)dst + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

struct kf_cpu {
	struct ktracer_reader *reader;
	struct ktracer_meta *meta;
	unsigned char *data;
	uint64_t head;		/* the writer's */
	struct kr_ring ring;
};

struct kf_buf {
	char *p;
	size_t len, cap;
};

struct kf {
	unsigned int ncpu;
	uint64_t size;
	uint32_t mode;
	struct kf_cpu cpu[KF_CPUS];
	struct kr_ring *ringp[KF_CPUS];
	struct kr_merge merge;
	struct kr_names *names;
	struct kr_model *model;
	struct kf_buf doc;
	struct kr_out out;
	struct kr_json json;
	struct kr_statsd statsd;
	struct kr_outputs outs;
	size_t max_dgram;
	char names_text[300];
	size_t names_len;
	char comm[KTRACER_COMM_MAX];
	int comm_len;
	uint64_t now;
};

static int kf_write(void *ctx, const void *p, size_t n)
{
	struct kf_buf *b = ctx;
	char *np;
	size_t cap;

	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 1 << 16;
		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			abort();
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Every datagram: within its limit, lines of "name:value|type[|#tags]". */
static int kf_send(void *ctx, const void *buf, size_t len)
{
	const struct kf *f = ctx;
	const char *s = buf, *end = s + len, *nl, *colon, *bar;

	if (!len || len > f->max_dgram) {
		fprintf(stderr, "datagram of %zu bytes, limit %zu\n", len,
			f->max_dgram);
		abort();
	}
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		colon = memchr(s, ':', (size_t)(nl - s));
		bar = colon ? memchr(colon, '|', (size_t)(nl - colon)) : NULL;
		if (!colon || colon == s || !bar || bar == colon + 1 ||
		    bar + 1 == nl) {
			fprintf(stderr, "bad StatsD line: %.*s\n",
				(int)(nl - s), s);
			abort();
		}
		s = nl + 1;
	}
	return 0;
}

static void kf_reload(void *ctx, struct kr_names *names)
{
	struct kf *f = ctx;

	if (f->names_len)
		kr_names_parse(names, f->names_text, f->names_len);
}

static int kf_comm(void *ctx, uint32_t pid, uint32_t tid,
		   char buf[KTRACER_COMM_MAX])
{
	struct kf *f = ctx;

	(void)pid;
	(void)tid;
	if (f->comm_len > 0)
		memcpy(buf, f->comm, (size_t)f->comm_len);
	return f->comm_len;
}

static void kf_publish(struct kf_cpu *c)
{
	__atomic_store_n(&c->meta->head, c->head, __ATOMIC_RELEASE);
}

/* A record at the writer's head, framed, as ktracer.ko writes one. */
static void kf_rec(struct kf *f, struct kf_cpu *c, struct kf_in *in)
{
	struct ktracer_record h;
	unsigned char msg[256];
	uint32_t len, size;
	uint64_t off;

	kf_bytes(in, &h, sizeof(h));
	len = (uint32_t)kf_get(in, 1);
	kf_bytes(in, msg, len);
	size = KR_REC_HDR + ((len + 7) & ~7u);
	if (size > f->size)
		return;
	off = c->head & (f->size - 1);
	if (off + size > f->size) {
		struct ktracer_record pad = {
			.size = (uint16_t)(f->size - off),
			.type = KTRACER_REC_PAD,
		};

		/* a PAD of 8 bytes holds only its size and type */
		memcpy(c->data + off, &pad, f->size - off < KR_REC_HDR ?
		       f->size - off : KR_REC_HDR);
		c->head += f->size - off;
		off = 0;
	}
	h.size = (uint16_t)size;
	h.len = len;
	memcpy(c->data + off, &h, KR_REC_HDR);
	memset(c->data + off + KR_REC_HDR, 0, size - KR_REC_HDR);
	memcpy(c->data + off + KR_REC_HDR, msg, len);
	c->head += size;
	kf_publish(c);
}

/* A PAD or LOST at head, of any size, with the data wrapping under it. */
static void kf_filler(struct kf *f, struct kf_cpu *c, struct kf_in *in)
{
	struct ktracer_record r = { 0 };
	uint64_t off = c->head & (f->size - 1), i;
	unsigned char *p = (unsigned char *)&r;

	r.type = (uint8_t)kf_get(in, 1) & 1 ? KTRACER_REC_LOST :
		 KTRACER_REC_PAD;
	r.size = (uint16_t)kf_get(in, 2);
	r.arg = kf_get(in, 8);
	for (i = 0; i < KR_REC_HDR; i++)
		c->data[(off + i) & (f->size - 1)] = p[i];
	c->head += r.size;
	kf_publish(c);
}

static void kf_meta(struct kf_cpu *c, struct kf_in *in)
{
	unsigned int which = (unsigned int)kf_get(in, 1) % 7;
	uint64_t v = kf_get(in, 8);
	struct ktracer_meta *m = c->meta;
	__u64 *field[] = { &m->written, &m->bytes, &m->lost,
			   &m->overwritten, &m->data_size, &m->tail_resets,
			   &m->magic };

	__atomic_store_n(field[which], v, __ATOMIC_RELAXED);
}

static void kf_cycle(struct kf *f, bool final)
{
	kr_read_cycle(f->ringp, f->ncpu, &f->merge, f->model, f->now, final);
}

static void kf_emit(struct kf *f)
{
	uint64_t read, lost;

	if (!f->outs.statsd)
		return;
	kr_read_totals(f->ringp, f->ncpu, &read, &lost);
	kr_statsd_reader(&f->statsd, read, lost);
	kr_statsd_emit(&f->statsd);
}

static void kf_setup(struct kf *f, struct kf_in *in)
{
	unsigned int b0 = (unsigned int)kf_get(in, 1);
	unsigned int b1 = (unsigned int)kf_get(in, 1);
	unsigned int b2 = (unsigned int)kf_get(in, 1);
	unsigned int b3 = (unsigned int)kf_get(in, 1);
	struct kr_statsd_cfg sc;
	struct kr_model_cfg mc;
	bool metrics = b1 & 2, trace = !(b1 & 8) || !metrics;
	unsigned int i;

	f->ncpu = b0 % KF_CPUS + 1;
	f->mode = b1 & 1 ? KTRACER_MODE_OVERWRITE : KTRACER_MODE_DISCARD;
	f->size = 1ull << (6 + (b1 >> 4) % 9);
	f->max_dgram = b3 ? 64 + (size_t)b3 * 4 : KR_STATSD_DATAGRAM;
	f->now = 1000;
	for (i = 0; i < f->ncpu; i++) {
		struct kf_cpu *c = &f->cpu[i];

		c->reader = calloc(1, sizeof(*c->reader));
		c->meta = calloc(1, sizeof(*c->meta));
		c->data = calloc(1, f->size);
		if (!c->reader || !c->meta || !c->data)
			abort();
		c->meta->magic = KTRACER_META_MAGIC;
		c->meta->cpu = i;
		c->meta->data_size = f->size;
		kr_ring_init(&c->ring, i, c->reader, c->meta, c->data, f->size);
		f->ringp[i] = &c->ring;
	}
	if (kr_merge_init(&f->merge, f->ncpu, (size_t)1024 << (b2 % 4),
			  1000))
		abort();
	kr_names_init(f->names);
	if (trace) {
		if (kr_out_init(&f->out, 4096, kf_write, &f->doc))
			abort();
		kr_json_begin(&f->json, &f->out);
		f->outs.json = &f->json;
	}
	if (metrics) {
		sc = (struct kr_statsd_cfg){
			.prefix = "kt.", .tags = b1 & 4, .host = "fuzz:host/1",
			.max_datagram = f->max_dgram, .max_keys = 64,
			.send = kf_send, .ctx = f, .dest = "fuzz",
		};
		if (kr_statsd_init(&f->statsd, &sc))
			abort();
		f->outs.statsd = &f->statsd;
	}
	mc = (struct kr_model_cfg){
		.ncpu = f->ncpu, .names = f->names, .ctx = f,
		.reload_names = kf_reload, .comm = kf_comm,
		.max_tracks = 64, .max_threads = 64, .max_syscalls = 64,
		.sink = kr_outputs_sink(&f->outs),
	};
	f->model = kr_model_new(&mc);
	if (!f->model)
		abort();
}

static void kf_teardown(struct kf *f)
{
	unsigned int i;

	kr_model_free(f->model);
	kr_merge_free(&f->merge);
	kr_names_free(f->names);
	if (f->outs.json)
		kr_out_free(&f->out);
	if (f->outs.statsd)
		kr_statsd_free(&f->statsd);
	for (i = 0; i < f->ncpu; i++) {
		free(f->cpu[i].reader);
		free(f->cpu[i].meta);
		free(f->cpu[i].data);
	}
}

static void kf_run(struct kf *f, struct kf_in *in)
{
	unsigned int op, n;
	struct kf_cpu *c;
	uint64_t off;

	while (in->n) {
		op = (unsigned int)kf_get(in, 1);
		c = &f->cpu[(op >> 4) % f->ncpu];
		switch ((op & 15) % KF_OPS) {
		case KF_REC:
			kf_rec(f, c, in);
			break;
		case KF_RAW:
			off = kf_get(in, 2);
			n = (unsigned int)kf_get(in, 1);
			while (n--)
				c->data[off++ & (f->size - 1)] =
					(unsigned char)kf_get(in, 1);
			break;
		case KF_HEAD_ADD:
			c->head += kf_get(in, 2);
			kf_publish(c);
			break;
		case KF_HEAD_SET:
			c->head = kf_get(in, 8);
			kf_publish(c);
			break;
		case KF_TAIL_SET:
			__atomic_store_n(&c->reader->tail, kf_get(in, 8),
					 __ATOMIC_RELEASE);
			break;
		case KF_META_SET:
			kf_meta(c, in);
			break;
		case KF_CYCLE:
			f->now += kf_get(in, 4);
			kf_cycle(f, false);
			break;
		case KF_MODE:
			f->mode = f->mode == KTRACER_MODE_OVERWRITE ?
				  KTRACER_MODE_DISCARD : KTRACER_MODE_OVERWRITE;
			break;
		case KF_EMIT:
			kf_emit(f);
			break;
		case KF_NAMES: {
			size_t h = 0;

			n = (unsigned int)kf_get(in, 1);
			if (!(op & 0x10)) {
				h = strlen(KR_EVENTS_HEADER "\n");
				memcpy(f->names_text, KR_EVENTS_HEADER "\n", h);
			}
			kf_bytes(in, f->names_text + h, n);
			f->names_len = h + n;
			kr_names_parse(f->names, f->names_text, f->names_len);
			break;
		}
		case KF_FILLER:
			kf_filler(f, c, in);
			break;
		case KF_NOW:
			f->now = kf_get(in, 8);
			break;
		case KF_REC_RAW: {
			unsigned char h[KR_REC_HDR];

			kf_bytes(in, h, sizeof(h));
			for (n = 0; n < KR_REC_HDR; n++)
				c->data[(c->head + n) & (f->size - 1)] = h[n];
			c->head += kf_get(in, 2);
			kf_publish(c);
			break;
		}
		case KF_COMM:
			n = (unsigned int)kf_get(in, 1);
			if (n == 0xff) {
				f->comm_len = -1;
			} else {
				n %= KTRACER_COMM_MAX + 1;
				kf_bytes(in, f->comm, n);
				f->comm_len = (int)n;
			}
			break;
		}
	}
}

static void kf_check(struct kf *f)
{
	size_t off = 0;
	const char *why = NULL;

	if (f->outs.json &&
	    !kf_json_check(f->doc.p, f->doc.len, &off, &why)) {
		fprintf(stderr, "invalid JSON at byte %zu of %zu: %s: %.*s\n",
			off, f->doc.len, why,
			(int)(f->doc.len - off < 80 ? f->doc.len - off : 80),
			f->doc.p + off);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kr_names names;
	static struct kf_buf doc;	/* kept: only its length is reset */
	struct kf_in in = { .p = data, .n = size };
	struct kf f = { 0 };
	struct kr_arg sum[] = {
		{ .key = "tool", .klen = 4, .type = KR_ARG_STR, .len = 4,
		  .v.str = "fuzz" },
	};

	f.names = &names;
	doc.len = 0;
	f.doc = doc;
	kf_setup(&f, &in);
	kf_run(&f, &in);
	kf_cycle(&f, true);
	kr_model_finish(f.model);
	if (f.outs.json && kr_json_end(&f.json, sum, 1))
		abort();
	kf_emit(&f);
	kf_check(&f);
	kf_teardown(&f);
	doc = f.doc;
	return 0;
}
