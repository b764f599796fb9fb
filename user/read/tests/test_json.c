// SPDX-License-Identifier: GPL-2.0
/* Tests of the Chrome JSON writer and its formatting functions. */

#include <errno.h>

#include "tests.h"

static void ku_fmt(char *buf, char *end)
{
	*end = '\0';
	(void)buf;
}

void json_numbers(void)
{
	char b[64];

	ku_fmt(b, kr_fmt_u64(b, 0));
	CHECK(!strcmp(b, "0"));
	ku_fmt(b, kr_fmt_u64(b, 9));
	CHECK(!strcmp(b, "9"));
	ku_fmt(b, kr_fmt_u64(b, 10));
	CHECK(!strcmp(b, "10"));
	ku_fmt(b, kr_fmt_u64(b, 100));
	CHECK(!strcmp(b, "100"));
	ku_fmt(b, kr_fmt_u64(b, 1234567890123ull));
	CHECK(!strcmp(b, "1234567890123"));
	ku_fmt(b, kr_fmt_u64(b, UINT64_MAX));
	CHECK(!strcmp(b, "18446744073709551615"));
	ku_fmt(b, kr_fmt_s64(b, INT64_MIN));
	CHECK(!strcmp(b, "-9223372036854775808"));
	ku_fmt(b, kr_fmt_s64(b, -5));
	CHECK(!strcmp(b, "-5"));
	ku_fmt(b, kr_fmt_us(b, 0));
	CHECK(!strcmp(b, "0.000"));
	ku_fmt(b, kr_fmt_us(b, 1234567));
	CHECK(!strcmp(b, "1234.567"));
	ku_fmt(b, kr_fmt_us(b, 5));
	CHECK(!strcmp(b, "0.005"));
	ku_fmt(b, kr_fmt_us(b, -1500));
	CHECK(!strcmp(b, "-1.500"));
	ku_fmt(b, kr_fmt_us(b, INT64_MIN));
	CHECK(!strcmp(b, "-9223372036854775.808"));
	ku_fmt(b, kr_fmt_us_diff(b, 1000, 3500));
	CHECK(!strcmp(b, "-2.500"));
	ku_fmt(b, kr_fmt_us_diff(b, UINT64_MAX, 0));
	CHECK(!strcmp(b, "18446744073709551.615"));

	/* Every length, either side of each power of ten, as printf has it. */
	{
		uint64_t p10 = 1, v;
		char want[32];
		int k, e;

		for (k = 0; k < 20; k++, p10 *= 10)
			for (e = -1; e <= 1; e++) {
				v = p10 + (uint64_t)(int64_t)e;
				ku_fmt(b, kr_fmt_u64(b, v));
				snprintf(want, sizeof(want), "%llu",
					 (unsigned long long)v);
				CHECK(!strcmp(b, want));
			}
	}
	/*
	 * Microseconds the same way, in both signs, and nothing stored past
	 * the end they return.
	 */
	{
		uint64_t p10 = 1, v;
		char want[40], *end;
		int k, e;

		for (k = 0; k < 20; k++, p10 *= 10)
			for (e = -1; e <= 1; e++) {
				v = p10 + (uint64_t)(int64_t)e;
				memset(b, 'x', sizeof(b));
				end = kr_fmt_us_diff(b, v, 0);
				CHECK(*end == 'x');
				ku_fmt(b, end);
				snprintf(want, sizeof(want), "%llu.%03u",
					 (unsigned long long)(v / 1000),
					 (unsigned int)(v % 1000));
				CHECK(!strcmp(b, want));
				memset(b, 'x', sizeof(b));
				end = kr_fmt_us_diff(b, 0, v);
				CHECK(*end == 'x');
				ku_fmt(b, end);
				CHECK(v ? b[0] == '-' && !strcmp(b + 1, want) :
				      !strcmp(b, want));
			}
	}
}

/* A task's end, 1 ns after @at past @t0, where it does not wrap. */
static uint64_t ku_end(uint64_t t0, uint64_t at)
{
	return t0 + at + (at < UINT64_MAX - t0);
}

/*
 * The writer's fast paths (kr_json_task, kr_json_counter) write "ts" as
 * kr_fmt_us_diff() makes it of ts - origin, at every length, and their
 * args as the generic path does.
 */
void json_fast_paths_ts(void)
{
	static const uint64_t t0 = 5000;
	static const uint64_t at[] = {
		0, 999, 9999999, 10000000, 10000001, 10000000, 19999999,
		20000000, 999, 123456789012345ull, 123456789012345ull + 10000000,
		123456789012345ull, 20000000, UINT64_MAX - t0,
	};
	struct ku_buf doc = { 0 };
	struct kr_out out;
	struct kr_json w;
	char name[KR_NAME_ROOM] = "\"n\"", want[160], *p;
	const char *d;
	size_t i;

	CHECK(!kr_out_init(&out, 4096, ku_buf_write, &doc));
	kr_json_begin(&w, &out);
	kr_json_origin(&w, t0);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		kr_json_counter(&w, 1, t0 + at[i], name, 3, i, false);
		kr_json_task(&w, 1, 2, t0 + at[i], ku_end(t0, at[i]), name, 3,
			     7, 0, 0, i);
	}
	/* before the origin: a sign, no cache */
	kr_json_counter(&w, 1, t0 - 1500, name, 3, 99, false);
	CHECK(kr_json_end(&w, NULL, 0) == 0);
	d = ku_buf_str(&doc);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		p = kr_put(want, "\"ts\":");
		ku_fmt(want, kr_fmt_us_diff(p, t0 + at[i], t0));
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 ",\"name\":\"n\",\"args\":{\"value\":%zu}", i);
		CHECK_HAS(d, want);
		p = kr_put(want, "\"ts\":");
		ku_fmt(want, kr_fmt_us_diff(p, t0 + at[i], t0));
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 ",\"name\":\"n\",\"cat\":\"task\",\"id\":7,\"args\":{\"slot\":0,\"arg\":0,\"tid\":2,\"stop_arg\":%zu}}", i);
		CHECK_HAS(d, want);
		p = kr_put(want, "{\"ph\":\"e\",\"pid\":1,\"tid\":2,\"ts\":");
		ku_fmt(want, kr_fmt_us_diff(p, ku_end(t0, at[i]), t0));
		strcat(want, ",\"name\":\"n\",\"cat\":\"task\",\"id\":7}");
		CHECK_HAS(d, want);
	}
	CHECK_HAS(d, "\"ts\":10000.000,");
	CHECK_HAS(d, "\"ts\":123456789012.345,");
	CHECK_HAS(d, "\"ts\":18446744073709546.615,");
	CHECK_HAS(d, "\"ts\":-1.500,\"name\":\"n\",\"args\":{\"value\":99}");
	CHECK(ku_json_valid("json_fast_paths_ts", d, doc.len));
	kr_out_free(&out);
	ku_buf_free(&doc);
}

/* The JSON string kr_fmt_json_str makes of @n bytes at @s. */
static const char *ku_str(char *buf, const void *s, size_t n)
{
	ku_fmt(buf, kr_fmt_json_str(buf, s, n));
	return buf;
}

void json_escapes_hostile_bytes(void)
{
	char b[2048], all[256];
	struct ku_buf doc = { 0 };
	struct kr_out out;
	struct kr_json w;
	struct kr_ev ev = { .ph = KR_PH_INSTANT, .pid = 1, .tid = 2, .ts = 5 };
	unsigned int i;

	CHECK(!strcmp(ku_str(b, "a\"b\\c", 5), "\"a\\\"b\\\\c\""));
	CHECK(!strcmp(ku_str(b, "\n\r\t\b\f", 5), "\"\\n\\r\\t\\b\\f\""));
	CHECK(!strcmp(ku_str(b, "\0\x01\x1f\x7f", 4),
		      "\"\\u0000\\u0001\\u001f\\u007f\""));
	/* Valid UTF-8 stays: é, €, 😀 */
	CHECK(!strcmp(ku_str(b, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
		      "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
	/* A lone continuation byte, and a byte no UTF-8 has */
	CHECK(!strcmp(ku_str(b, "a\x80z\xff", 4),
		      "\"a\xef\xbf\xbdz\xef\xbf\xbd\""));
	/* Overlong '/', a surrogate, above U+10FFFF: each byte replaced */
	CHECK(!strcmp(ku_str(b, "\xc0\xaf", 2),
		      "\"\xef\xbf\xbd\xef\xbf\xbd\""));
	CHECK(!strcmp(ku_str(b, "\xed\xa0\x80", 3),
		      "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
	CHECK(!strcmp(ku_str(b, "\xf4\x90\x80\x80", 4),
		      "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""));
	/* A sequence cut by the end of the string */
	CHECK(!strcmp(ku_str(b, "x\xe2\x82", 3),
		      "\"x\xef\xbf\xbd\xef\xbf\xbd\""));
	CHECK(kr_utf8_seq((const unsigned char *)"\xe0\x9f\x80", 3) == 0);
	CHECK(kr_utf8_seq((const unsigned char *)"\xe0\xa0\x80", 3) == 3);
	CHECK(kr_utf8_seq((const unsigned char *)"\xf0\x8f\xbf\xbf", 4) == 0);

	/*
	 * Eight bytes at a time as byte by byte: each byte (or UTF-8
	 * sequence) that needs more, at every offset of strings of every
	 * length up to 40, alone and with a quote at the end, is written as
	 * it is alone (fewer than 8 bytes go byte by byte), and nothing is
	 * stored past the end.
	 */
	{
		static const char *const odd[] = {
			"\"", "\\", "\n", "\x01", "\x7f", "\x80", "\xff",
			"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xe2\x82",
		};
		const size_t nodd = sizeof(odd) / sizeof(odd[0]);
		char s[40], want[512], one[32], *end;
		size_t n, at, k, o, u;

		for (n = 1; n <= sizeof(s); n++)
			for (at = 0; at < n; at++)
				for (o = 0; o < 2 * nodd; o++) {
					for (k = 0; k < n; k++)
						s[k] = (char)('a' + k % 26);
					k = strlen(odd[o / 2]);
					memcpy(s + at, odd[o / 2],
					       at + k <= n ? k : n - at);
					if (o % 2)
						s[n - 1] = '"';
					strcpy(want, "\"");
					for (k = 0; k < n; k += u) {
						u = kr_utf8_seq((const unsigned char *)s + k,
								n - k);
						u = u ? u : 1;
						end = kr_fmt_json_str(one, s + k, u);
						end[-1] = '\0';
						strcat(want, one + 1);
					}
					strcat(want, "\"");
					memset(b, 'x', sizeof(b));
					end = kr_fmt_json_str(b, s, n);
					CHECK(*end == 'x');
					ku_fmt(b, end);
					CHECK(!strcmp(b, want));
				}
	}

	/* Every byte value, as a name and as an argument, is valid JSON. */
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	CHECK(!kr_out_init(&out, 1 << 16, ku_buf_write, &doc));
	kr_json_begin(&w, &out);
	ev.name = all;
	ev.name_len = sizeof(all);
	kr_ev_str(&ev, "msg", all, sizeof(all));
	kr_ev_str(&ev, "rev", all + 128, 128);
	kr_json_event(&w, &ev);
	ev.name = "\"},{\"ph\":\"X";	/* no way out of the string */
	ev.name_len = (uint32_t)strlen(ev.name);
	kr_json_event(&w, &ev);
	CHECK(kr_json_end(&w, NULL, 0) == 0);
	CHECK(ku_json_valid("json_hostile", ku_buf_str(&doc), doc.len));
	CHECK_EQ(ku_count(ku_buf_str(&doc), "\"ph\":"), 2);
	kr_out_free(&out);
	ku_buf_free(&doc);
}

void json_every_phase(void)
{
	static const char log_json[KR_NAME_ROOM] = "\"log\"";
	struct ku_buf doc = { 0 };
	struct kr_out out;
	struct kr_json w;
	struct kr_ev ev;
	const char *s;

	CHECK(!kr_out_init(&out, 4096, ku_buf_write, &doc));
	kr_json_begin(&w, &out);
	kr_json_origin(&w, 1000000);

	ev = (struct kr_ev){ .ph = KR_PH_COMPLETE, .pid = 10, .tid = 11,
			     .ts = 1001500, .dur = 22000, .name = "db.query",
			     .name_len = 8, .cat = "span" };
	kr_ev_arg(&ev, "slot", KR_ARG_U64, 3);
	kr_ev_arg(&ev, "ret", KR_ARG_S64, (uint64_t)-2);
	kr_ev_arg(&ev, "cancelled", KR_ARG_TRUE, 0);
	kr_json_event(&w, &ev);
	ev = (struct kr_ev){ .ph = KR_PH_INSTANT, .pid = 10, .tid = 11,
			     .ts = 999000, .name = log_json, .name_len = 5,
			     .name_json = true };
	kr_ev_str(&ev, "msg", "hi", 2);
	kr_json_event(&w, &ev);
	ev = (struct kr_ev){ .ph = KR_PH_COUNTER, .pid = 10, .ts = 1000000,
			     .name = "q", .name_len = 1 };
	kr_ev_arg(&ev, "value", KR_ARG_S64, (uint64_t)-7);
	kr_json_event(&w, &ev);
	ev = (struct kr_ev){ .ph = KR_PH_META, .pid = 10, .tid = 11,
			     .name = "thread_name", .name_len = 11 };
	kr_ev_str(&ev, "name", "worker", 6);
	kr_json_event(&w, &ev);
	CHECK(kr_json_end(&w, NULL, 0) == 0);
	s = ku_buf_str(&doc);
	CHECK_HAS(s, "{\"ph\":\"X\",\"pid\":10,\"tid\":11,\"ts\":1.500,\"dur\":22.000,\"name\":\"db.query\",\"cat\":\"span\",\"args\":{\"slot\":3,\"ret\":-2,\"cancelled\":true}}");
	CHECK_HAS(s, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":10,\"tid\":11,\"ts\":-1.000,\"name\":\"log\",\"args\":{\"msg\":\"hi\"}}");
	CHECK_HAS(s, "{\"ph\":\"C\",\"pid\":10,\"ts\":0.000,\"name\":\"q\",\"args\":{\"value\":-7}}");
	CHECK_HAS(s, "{\"ph\":\"M\",\"pid\":10,\"tid\":11,\"name\":\"thread_name\",\"args\":{\"name\":\"worker\"}}");
	CHECK(!strncmp(s, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 39));
	CHECK(ku_json_valid("json_every_phase", s, doc.len));
	kr_out_free(&out);
	ku_buf_free(&doc);
}

void json_empty_and_small_buffer(void)
{
	struct ku_buf a = { 0 }, b = { 0 };
	struct kr_out oa, ob;
	struct kr_json wa, wb;
	struct kr_ev ev;
	char name[64];
	int i;

	/* Nothing recorded: still a whole document. */
	CHECK(!kr_out_init(&oa, 4096, ku_buf_write, &a));
	kr_json_begin(&wa, &oa);
	CHECK(kr_json_end(&wa, NULL, 0) == 0);
	CHECK(!strcmp(ku_buf_str(&a), "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n],\"otherData\":{}}\n"));
	CHECK(ku_json_valid("json_empty", ku_buf_str(&a), a.len));
	CHECK(kr_json_end(&wa, NULL, 0) == 0);	/* twice is once */
	kr_out_free(&oa);
	ku_buf_free(&a);

	/* A buffer flushed every few events writes what a big one does. */
	CHECK(!kr_out_init(&oa, 2048, ku_buf_write, &a));
	CHECK(!kr_out_init(&ob, 1 << 20, ku_buf_write, &b));
	kr_json_begin(&wa, &oa);
	kr_json_begin(&wb, &ob);
	for (i = 0; i < 1000; i++) {
		ev = (struct kr_ev){ .ph = KR_PH_COMPLETE, .pid = 1,
				     .tid = (uint32_t)i % 7, .ts = (uint64_t)i * 10,
				     .dur = 5, .name = name };
		ev.name_len = (uint32_t)snprintf(name, sizeof(name), "e%d\n", i);
		kr_ev_str(&ev, "msg", name, ev.name_len);
		kr_json_event(&wa, &ev);
		kr_json_event(&wb, &ev);
	}
	CHECK(kr_json_end(&wa, NULL, 0) == 0);
	CHECK(kr_json_end(&wb, NULL, 0) == 0);
	CHECK_EQ(a.len, b.len);
	CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
	CHECK(oa.bytes == a.len);
	CHECK(ku_json_valid("json_small_buffer", ku_buf_str(&a), a.len));
	kr_out_free(&oa);
	kr_out_free(&ob);
	ku_buf_free(&a);
	ku_buf_free(&b);
}

void json_write_error(void)
{
	struct ku_buf doc = { .fail = ENOSPC };
	struct kr_out out;
	struct kr_json w;
	struct kr_ev ev = { .ph = KR_PH_INSTANT, .name = "x", .name_len = 1 };
	int i;

	CHECK(!kr_out_init(&out, 1024, ku_buf_write, &doc));
	kr_json_begin(&w, &out);
	for (i = 0; i < 100; i++)
		kr_json_event(&w, &ev);
	CHECK(out.err == ENOSPC);
	CHECK(kr_json_end(&w, NULL, 0) == ENOSPC);
	CHECK_EQ(out.bytes, 0);
	kr_out_free(&out);
	ku_buf_free(&doc);
}
