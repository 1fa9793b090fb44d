/* test_check.c - bulk checks (jcs_checker): the same results, in the same
 * order, with the same duplicate flags, whatever the number of jobs; the
 * queue of a checker with jobs; bad job counts. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define N_LINES 1300 /* over two blocks of queued lines, and a partial one */

struct lines {
	char *text[N_LINES];
};

/* A label of the reference fields for unit (NULL: none), signed with the
 * P-256 test vector key; its bare payload. */
static char *
payload_for(jcs_ctx *ctx, const jcs_key *key, const char *unit,
    const char *not_after)
{
	jcs_label_fields f = tu_ref_fields();
	jcs_label *l;
	const uint8_t *der;
	size_t len;
	char *p;

	f.product.unit_serial = unit;
	if (not_after != NULL)
		f.not_after = tu_time(not_after);
	l = jcs_label_new(ctx, &f);
	assert_non_null(l);
	assert_int_equal(jcs_label_sign(ctx, l, key), 0);
	der = jcs_label_der(l, &len);
	p = jcs_payload_encode(ctx, der, len, JCS_FORM_BARE, NULL);
	assert_non_null(p);
	jcs_label_free(l);
	return p;
}

/* Valid labels, copies of earlier lines, a second label for one unit,
 * expired labels, damaged payloads, text that is no payload, a missing
 * photo. */
static void
make_lines(struct lines *ls)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *key = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	char unit[32];

	assert_non_null(key);
	for (int i = 0; i < N_LINES; i++) {
		snprintf(unit, sizeof(unit), "U%d", i);
		switch (i < 10 ? 0 : i % 10) {
		case 3:
			/* the same label as 7 lines before */
			ls->text[i] = jcs_strdup(ls->text[i - 7]);
			break;
		case 5:
			/* another label for the unit 4 lines before */
			snprintf(unit, sizeof(unit), "U%d", i - 4);
			ls->text[i] = payload_for(ctx, key, unit, NULL);
			break;
		case 6:
			ls->text[i] = payload_for(ctx, key, unit,
			    "2025-06-01");
			break;
		case 8:
			ls->text[i] = payload_for(ctx, key, unit, NULL);
			ls->text[i][strlen(ls->text[i]) - 3] = '\0';
			break;
		case 9:
			ls->text[i] = jcs_strdup(i % 20 == 9 ? "HELLO WORLD" :
			    "no-such-photo.png");
			break;
		default:
			ls->text[i] = payload_for(ctx, key, unit, NULL);
		}
		assert_non_null(ls->text[i]);
	}
	jcs_key_free(key);
	jcs_ctx_free(ctx);
}

static jcs_checker *
check_all(const struct lines *ls, const jcs_trust *trust, int jobs)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_verify_opts vo;
	jcs_checker *c;
	size_t got = 0;

	memset(&vo, 0, sizeof(vo));
	vo.at = tu_time("2026-01-01");
	c = jcs_checker_new(ctx, trust, &vo);
	assert_non_null(c);
	if (jobs > 1)
		assert_int_equal(jcs_checker_set_jobs(ctx, c, jobs), 0);
	for (int i = 0; i < N_LINES; i++) {
		int rc = jcs_checker_add(ctx, c, ls->text[i],
		    strlen(ls->text[i]));

		assert_true(rc >= 0);
		got += (size_t)rc;
		/* results come as they are ready, never out of order */
		assert_int_equal(jcs_checker_count(c), got);
	}
	got += (size_t)jcs_checker_flush(ctx, c);
	assert_int_equal(jcs_checker_count(c), got);
	assert_int_equal(got, N_LINES);
	jcs_ctx_free(ctx);
	return c;
}

static void
same_result(const jcs_check_result *a, const jcs_check_result *b)
{
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->duplicate_of, b->duplicate_of);
	assert_int_equal(a->scheme, b->scheme);
	assert_int_equal(a->level, b->level);
	assert_string_equal(a->input, b->input);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->reg_id, b->reg_id);
	assert_string_equal(a->unit_serial, b->unit_serial);
	assert_string_equal(a->serial, b->serial);
}

static void
test_jobs_same_results(void **state)
{
	static struct lines ls;
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *trust = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_checker *one, *more;
	size_t total, valid, dups, kinds[4] = { 0, 0, 0, 0 };
	const int jobs[] = { 2, 3, jcs_jobs_max() };

	(void)state;
	assert_non_null(trust);
	make_lines(&ls);
	one = check_all(&ls, trust, 1);
	/* the table holds every kind of result, and the flags point back */
	for (size_t i = 0; i < jcs_checker_count(one); i++) {
		const jcs_check_result *r = jcs_checker_result(one, i);

		assert_int_equal(r->line, i + 1);
		if (r->duplicate_of != 0) {
			kinds[0]++;
			assert_true(r->duplicate_of < r->line);
			assert_int_equal(r->duplicate_of,
			    r->line % 10 == 4 ? r->line - 7 : r->line - 4);
		} else if (r->verdict == JCS_OK) {
			kinds[1]++;
		} else if (r->verdict == JCS_ERR_EXPIRED) {
			kinds[2]++;
		} else {
			kinds[3]++;
		}
	}
	for (int k = 0; k < 4; k++)
		assert_true(kinds[k] > 0);
	for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		more = check_all(&ls, trust, jobs[j]);
		for (size_t i = 0; i < jcs_checker_count(one); i++)
			same_result(jcs_checker_result(one, i),
			    jcs_checker_result(more, i));
		jcs_checker_summary(more, &total, &valid, &dups);
		assert_int_equal(total, N_LINES);
		assert_int_equal(valid, kinds[1]);
		assert_int_equal(dups, kinds[0]);
		jcs_checker_free(more);
	}
	jcs_checker_free(one);
	for (int i = 0; i < N_LINES; i++)
		free(ls.text[i]);
	jcs_trust_free(trust);
	jcs_ctx_free(ctx);
}

/* A label list of a batch (issue --batch --out-list): its header gives no
 * row, each line's payload column is checked, rows keep the file's line
 * numbers, with any number of jobs; the header anywhere but on line 1 is
 * just a bad line. */
static void
test_label_list(void **state)
{
	static struct lines ls;
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *trust = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_verify_opts vo;
	jcs_checker *one, *c;
	char line[JCS_PAYLOAD_MAX + 128];

	(void)state;
	assert_non_null(trust);
	make_lines(&ls);
	one = check_all(&ls, trust, 1);
	memset(&vo, 0, sizeof(vo));
	vo.at = tu_time("2026-01-01");
	for (int jobs = 1; jobs <= 2; jobs++) {
		c = jcs_checker_new(ctx, trust, &vo);
		assert_non_null(c);
		assert_int_equal(jcs_checker_set_jobs(ctx, c, jobs), 0);
		/* with 2 jobs, as a spreadsheet saves it: a byte order mark */
		snprintf(line, sizeof(line), "%s%s", jobs == 2 ?
		    "\xef\xbb\xbf" : "", JCS_BATCH_LIST_HEADER);
		assert_int_equal(jcs_checker_add(ctx, c, line, strlen(line)),
		    0);
		for (int i = 0; i < N_LINES; i++) {
			int n = snprintf(line, sizeof(line), "U%d,0a1b2c3d4e5f"
			    "6a7b8c,2027-12-31,%s", i, ls.text[i]);

			assert_true(jcs_checker_add(ctx, c, line,
			    (size_t)n) >= 0);
		}
		assert_true(jcs_checker_flush(ctx, c) >= 0);
		assert_int_equal(jcs_checker_count(c), N_LINES);
		for (size_t i = 0; i < N_LINES; i++) {
			const jcs_check_result *a = jcs_checker_result(one, i);
			const jcs_check_result *b = jcs_checker_result(c, i);

			assert_int_equal(b->line, i + 2);
			assert_int_equal(b->verdict, a->verdict);
			assert_int_equal(b->duplicate_of == 0,
			    a->duplicate_of == 0);
			if (a->duplicate_of != 0)
				assert_int_equal(b->duplicate_of,
				    a->duplicate_of + 1);
			assert_string_equal(b->input, a->input);
			assert_string_equal(b->serial, a->serial);
			assert_string_equal(b->unit_serial, a->unit_serial);
		}
		jcs_checker_free(c);
	}
	/* not on line 1: no list, and the header is a bad line */
	c = jcs_checker_new(ctx, trust, &vo);
	assert_int_equal(jcs_checker_add(ctx, c, ls.text[0],
	    strlen(ls.text[0])), 1);
	assert_int_equal(jcs_checker_add(ctx, c, JCS_BATCH_LIST_HEADER,
	    strlen(JCS_BATCH_LIST_HEADER)), 1);
	assert_int_equal(jcs_checker_result(c, 1)->verdict,
	    JCS_ERR_NOT_PAYLOAD);
	snprintf(line, sizeof(line), "U1,00,2027-12-31,%s", ls.text[1]);
	assert_int_equal(jcs_checker_add(ctx, c, line, strlen(line)), 1);
	assert_int_equal(jcs_checker_result(c, 2)->verdict,
	    JCS_ERR_NOT_PAYLOAD);
	jcs_checker_free(c);
	jcs_checker_free(one);
	for (int i = 0; i < N_LINES; i++)
		free(ls.text[i]);
	jcs_trust_free(trust);
	jcs_ctx_free(ctx);
}

/* Bad job counts, jobs set too late, a report while lines wait. */
static void
test_jobs_queue(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *trust = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_checker *c = jcs_checker_new(ctx, trust, NULL);
	const int bad[] = { 0, -1, jcs_jobs_max() + 1, 1 << 30 };
	char report[4300], *dir = tu_tmpdir();

	(void)state;
	assert_non_null(c);
	assert_true(jcs_jobs_max() >= 4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(jcs_checker_set_jobs(ctx, c, bad[i]), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_msg(ctx, "jobs must be 1 to");
	}
	assert_int_equal(jcs_checker_set_jobs(ctx, c, 2), 0);
	assert_int_equal(jcs_checker_set_jobs(ctx, c, 2), -1);
	assert_msg(ctx, "once, before its first line");
	/* queued: no result until the block fills or is flushed */
	assert_int_equal(jcs_checker_add(ctx, c, "HELLO", 5), 0);
	assert_int_equal(jcs_checker_add(ctx, c, "JCS1:XYZ", 8), 0);
	assert_int_equal(jcs_checker_count(c), 0);
	snprintf(report, sizeof(report), "%s/r.json", dir);
	assert_int_equal(jcs_checker_write_report(ctx, c, report), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "2 lines are still queued");
	assert_int_equal(jcs_checker_flush(ctx, c), 2);
	assert_int_equal(jcs_checker_count(c), 2);
	assert_int_equal(jcs_checker_result(c, 0)->verdict,
	    JCS_ERR_NOT_PAYLOAD);
	assert_int_equal(jcs_checker_result(c, 1)->verdict,
	    JCS_ERR_BAD_PAYLOAD);
	assert_int_equal(jcs_checker_flush(ctx, c), 0);
	assert_int_equal(jcs_checker_write_report(ctx, c, report), 0);
	jcs_checker_free(c);
	/* one job: every line at once, as before */
	c = jcs_checker_new(ctx, trust, NULL);
	assert_int_equal(jcs_checker_set_jobs(ctx, c, 1), 0);
	assert_int_equal(jcs_checker_add(ctx, c, "HELLO", 5), 1);
	assert_int_equal(jcs_checker_set_jobs(ctx, c, 2), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	jcs_checker_free(c);
	/* a checker freed with lines still queued frees them */
	c = jcs_checker_new(ctx, trust, NULL);
	assert_int_equal(jcs_checker_set_jobs(ctx, c, 3), 0);
	assert_int_equal(jcs_checker_add(ctx, c, "HELLO", 5), 0);
	jcs_checker_free(c);
	jcs_checker_free(NULL);
	tu_rmrf(dir);
	free(dir);
	jcs_trust_free(trust);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_same_results),
		cmocka_unit_test(test_jobs_queue),
		cmocka_unit_test(test_label_list),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
