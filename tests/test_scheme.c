/* test_scheme.c - scheme profiles, recognition and policy files, the
 * decision whether a label meets a requirement, issuance under each
 * profile's rules, and simplified applications. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "testutil.h"

static char *tmp;
static char prof[4096];

static int
setup(void **state)
{
	(void)state;
	return tu_setup_tmp(&tmp, prof, sizeof(prof));
}

static int
teardown(void **state)
{
	(void)state;
	tu_teardown_tmp(&tmp);
	return 0;
}

/* The line of the built-in recognition file that holds needle. */
static unsigned
rec_line_of(const char *needle)
{
	const char *text = jcs_builtin_recognition.text, *p;
	unsigned line = 1;

	p = strstr(text, needle);
	assert_non_null(p);
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

/* ---- profiles ------------------------------------------------------------ */

static void
test_builtin_matches_files(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const jcs_schemes *b = jcs_schemes_builtin();
	jcs_schemes *files = jcs_schemes_load_dir(ctx, tu_src("certs/schemes"));

	(void)state;
	assert_non_null(b);
	if (files == NULL)
		fail_msg("%s", jcs_ctx_message(ctx));
	/* every scheme of the format has exactly one profile */
	assert_int_equal(jcs_schemes_count(b), 5);
	assert_int_equal(jcs_schemes_count(files), 5);
	for (size_t i = 0; i < 5; i++) {
		const jcs_profile *x = jcs_schemes_get(b, i);
		const jcs_profile *y = jcs_schemes_find(files, x->scheme);

		assert_non_null(y);
		assert_string_equal(x->display, y->display);
		assert_int_equal(x->min_level, y->min_level);
		assert_int_equal(x->max_level, y->max_level);
		assert_int_equal(x->third_party_from, y->third_party_from);
		assert_int_equal(x->max_years, y->max_years);
		assert_int_equal(x->support_required, y->support_required);
		for (int l = x->min_level; l <= x->max_level; l++)
			assert_string_equal(x->tmpl[l], y->tmpl[l]);
	}
	assert_null(jcs_schemes_get(b, 5));
	jcs_schemes_free(files);
	jcs_ctx_free(ctx);
}

/* The table of the issue: levels, validity caps and rules per scheme. */
static void
test_profile_values(void **state)
{
	static const struct {
		int scheme, lo, hi, style, third, years, support, within;
	} want[] = {
		{ JCS_SCHEME_JCSTAR, 1, 4, JCS_STYLE_STARS, 3, 2, 0, 0 },
		{ JCS_SCHEME_CLS, 1, 4, JCS_STYLE_ASTERISKS, 3, 3, 0, 1 },
		{ JCS_SCHEME_PSTI, 1, 1, JCS_STYLE_MARK, 0, 0, 1, 1 },
		{ JCS_SCHEME_CYBER_TRUST_MARK, 1, 1, JCS_STYLE_MARK, 1, 2, 1,
		  1 },
		{ JCS_SCHEME_CRA, 1, 4, JCS_STYLE_CLASS, 2, 5, 0, 1 },
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const jcs_profile *p = jcs_schemes_find(jcs_schemes_builtin(),
		    want[i].scheme);

		assert_non_null(p);
		assert_int_equal(p->min_level, want[i].lo);
		assert_int_equal(p->max_level, want[i].hi);
		assert_int_equal(p->style, want[i].style);
		assert_int_equal(p->third_party_from, want[i].third);
		assert_int_equal(p->max_years, want[i].years);
		assert_int_equal(p->support_required, want[i].support);
		assert_int_equal(p->within_support, want[i].within);
	}
	assert_string_equal(jcs_level_text(NULL, JCS_SCHEME_JCSTAR, 3, buf,
	    sizeof(buf)), "JC-STAR \u26053");
	assert_string_equal(jcs_level_text(NULL, JCS_SCHEME_CLS, 2, buf,
	    sizeof(buf)), "CLS level 2");
	assert_string_equal(jcs_level_text(NULL, JCS_SCHEME_PSTI, 1, buf,
	    sizeof(buf)), "PSTI compliant");
	assert_string_equal(jcs_level_text(NULL, JCS_SCHEME_CYBER_TRUST_MARK,
	    1, buf, sizeof(buf)), "Cyber Trust Mark");
	assert_string_equal(jcs_level_text(NULL, JCS_SCHEME_CRA, 2, buf,
	    sizeof(buf)), "CRA important I");
	assert_string_equal(jcs_level_mark(NULL, JCS_SCHEME_JCSTAR, 2, buf,
	    sizeof(buf)), "\u2605\u2605\u2606\u2606");
	assert_string_equal(jcs_level_mark(NULL, JCS_SCHEME_CLS, 3, buf,
	    sizeof(buf)), "\u2731\u2731\u2731");
	assert_string_equal(jcs_level_mark(NULL, JCS_SCHEME_CRA, 4, buf,
	    sizeof(buf)), "critical");
	assert_string_equal(jcs_level_mark(NULL, JCS_SCHEME_PSTI, 2, buf,
	    sizeof(buf)), "");
}

#define GOOD_PROFILE \
	"# a comment\n" \
	"scheme = jcstar\n" \
	"display = JC-STAR\n" \
	"authority = IPA\n" \
	"levels = 1-4\n" \
	"level_style = stars\n" \
	"third_party_from = 3\n" \
	"max_validity = 2 years\n" \
	"support_until = optional\n" \
	"within_support = no\n" \
	"template = jcstar-1\n"

static const struct bad_profile {
	const char *name, *text, *msg;
} bad_profiles[] = {
	{ "good", GOOD_PROFILE, NULL },
	{ "unknown key", GOOD_PROFILE "colour = red\n",
	  "p.scheme:12: unknown key 'colour'" },
	{ "unknown scheme", "scheme = jp-star\n", "p.scheme:1: unknown scheme "
	  "'jp-star'" },
	{ "scheme in capitals", "scheme = JCSTAR\n", "unknown scheme" },
	{ "level 0", "levels = 0-4\n", "p.scheme:1: levels '0-4' is out of "
	  "range" },
	{ "level 16", "levels = 1-16\n", "out of range" },
	{ "reversed levels", "levels = 4-1\n", "out of range" },
	{ "levels not a number", "levels = one\n", "out of range" },
	{ "duplicate key", GOOD_PROFILE "display = X\n",
	  "p.scheme:12: display is given twice (also on line 3)" },
	{ "missing key", "scheme = jcstar\n", "p.scheme: 'display' is "
	  "missing" },
	{ "no key", GOOD_PROFILE " = x\n", "a key is missing" },
	{ "no equals", GOOD_PROFILE "template\n", "expected 'key = value'" },
	{ "level name out of range", GOOD_PROFILE "level.5 = five\n",
	  "p.scheme:12: level.5: level 5 is out of range (levels = 1-4)" },
	{ "template out of range", GOOD_PROFILE "template.0 = x\n",
	  "the level must be a number from 1 to 15" },
	{ "bad template name", GOOD_PROFILE "template.2 = ../x\n",
	  "may hold only letters" },
	{ "class without names", "scheme = cra\ndisplay = CRA\nauthority = "
	  "EU\nlevels = 1-2\nlevel_style = class\nlevel.1 = default\n"
	  "third_party_from = 2\nmax_validity = 5 years\nsupport_until = "
	  "optional\nwithin_support = yes\ntemplate = cra\n",
	  "needs a name for every level: level.2 is missing" },
	{ "unknown style", "level_style = glitter\n", "unknown level_style" },
	{ "bad validity", "max_validity = 2 fortnights\n", "max_validity '2 "
	  "fortnights'" },
	{ "validity 0", "max_validity = 0 years\n", "must be 'N years'" },
	{ "unbounded", "scheme = psti\ndisplay = PSTI\nauthority = UK\n"
	  "levels = 1\nlevel_style = mark\nlevel.1 = compliant\n"
	  "third_party_from = none\nmax_validity = none\nsupport_until = "
	  "optional\nwithin_support = yes\ntemplate = psti\n",
	  "max_validity none needs support_until = required" },
	{ "third party above top", "scheme = psti\ndisplay = PSTI\n"
	  "authority = UK\nlevels = 1\nlevel_style = stars\n"
	  "third_party_from = 2\nmax_validity = 1 year\nsupport_until = "
	  "optional\nwithin_support = no\ntemplate = psti\n",
	  "third_party_from 2 is above the highest level (1)" },
	{ "bad country", GOOD_PROFILE "country = Japan\n", "two capital "
	  "letters" },
	{ "bad yes/no", "within_support = maybe\n", "'yes' or 'no'" },
	{ "bad utf-8", "display = \xff\n", "not valid UTF-8" },
	{ "empty display", "display =\n", "display is empty" },
};

static void
test_bad_profiles(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]);
	    i++) {
		const struct bad_profile *c = &bad_profiles[i];
		jcs_ctx *ctx = jcs_ctx_new();
		int rc;

		{
			/* a directory holding this one file */
			char dir[4200], path[4300];
			jcs_schemes *s;

			snprintf(dir, sizeof(dir), "%s/prof%zu", tmp, i);
			assert_int_equal(mkdir(dir, 0700), 0);
			snprintf(path, sizeof(path), "%s/p.scheme", dir);
			tu_write(path, c->text, strlen(c->text));
			s = jcs_schemes_load_dir(ctx, dir);
			rc = s != NULL ? 0 : -1;
			if (c->msg == NULL && rc == -1)
				fail_msg("%s: refused: %s", c->name,
				    jcs_ctx_message(ctx));
			if (c->msg != NULL) {
				if (rc == 0)
					fail_msg("%s: accepted", c->name);
				assert_err(ctx, JCS_ERR_PROFILE);
				assert_msg(ctx, c->msg);
			}
			jcs_schemes_free(s);
			tu_rmrf(dir);
		}
		jcs_ctx_free(ctx);
	}
}

static void
test_profile_dirs(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char dir[4200], path[4300];
	char big[70 * 1024];

	(void)state;
	/* two profiles for one scheme */
	snprintf(dir, sizeof(dir), "%s/twice", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/a.scheme", dir);
	tu_write(path, GOOD_PROFILE, strlen(GOOD_PROFILE));
	snprintf(path, sizeof(path), "%s/b.scheme", dir);
	tu_write(path, GOOD_PROFILE, strlen(GOOD_PROFILE));
	assert_null(jcs_schemes_load_dir(ctx, dir));
	assert_err(ctx, JCS_ERR_PROFILE);
	assert_msg(ctx, "b.scheme:2: a second profile for jcstar (the first "
	    "is");
	tu_rmrf(dir);
	/* no profiles; a missing directory; an oversized file; a NUL */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_null(jcs_schemes_load_dir(ctx, dir));
	assert_msg(ctx, "holds no scheme profiles");
	snprintf(path, sizeof(path), "%s/x.scheme", dir);
	memset(big, '#', sizeof(big));
	tu_write(path, big, sizeof(big));
	assert_null(jcs_schemes_load_dir(ctx, dir));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	tu_write(path, "scheme = jcstar\0x\n", 18);
	assert_null(jcs_schemes_load_dir(ctx, dir));
	assert_msg(ctx, "NUL");
	tu_rmrf(dir);
	assert_null(jcs_schemes_load_dir(ctx, dir));
	assert_err(ctx, JCS_ERR_IO);
	jcs_ctx_free(ctx);
}

/* ---- recognition and policy files ---------------------------------------- */

static const struct bad_file {
	const char *name, *text, *msg;
} bad_recognition[] = {
	{ "good", "accept psti:1 jcstar:1-4 2025-12 basis\n", NULL },
	{ "no date", "accept psti:1 jcstar:1 - basis text here\n", NULL },
	{ "unknown kind", "welcome psti:1 jcstar:1 - b\n",
	  "r.conf:1: unknown kind 'welcome'" },
	{ "unknown scheme", "# c\naccept psti:1 jpstar:1 - b\n",
	  "r.conf:2: unknown scheme 'jpstar' in label" },
	{ "level out of range", "accept psti:2 jcstar:1 - b\n",
	  "r.conf:1: requirement 'psti:2': level out of range (PSTI has "
	  "levels 1 to 1)" },
	{ "label level out of range", "accept psti:1 jcstar:1-5 - b\n",
	  "level out of range" },
	{ "requirement range", "accept psti:1-1 jcstar:1 - b\n", NULL },
	{ "requirement wide range", "accept jcstar:1-2 cls:1 - b\n",
	  "give one level" },
	{ "no colon", "accept psti jcstar:1 - b\n", "must be SCHEME:LEVEL" },
	{ "duplicate", "accept psti:1 jcstar:1-4 - a\n\naccept psti:1 "
	  "jcstar:2 - b\n", "r.conf:3: duplicate: line 1 already says" },
	{ "not a duplicate: other kind", "accept psti:1 jcstar:1 - a\n"
	  "simplified psti:1 jcstar:1 - b\n", NULL },
	{ "bad date", "accept psti:1 jcstar:1 2025-13 b\n",
	  "FROM '2025-13' must be" },
	{ "bad date 2", "accept psti:1 jcstar:1 December b\n",
	  "FROM 'December'" },
	{ "too few fields", "accept psti:1 jcstar:1 -\n",
	  "expected KIND REQUIREMENT LABEL FROM BASIS, found 4 fields" },
	{ "itself", "accept cls:1 cls:2 - b\n", "does not need to recognise "
	  "itself" },
	{ "bad utf-8", "accept psti:1 jcstar:1 - \xc3\x28\n",
	  "not valid UTF-8" },
	{ "NUL", "accept psti:1 jcstar:1 - b\0\n", "NUL" },
};

static const struct bad_file bad_policy[] = {
	{ "good", "low jcstar:1\nhigh jcstar:3 cls:3\n", NULL },
	{ "duplicate", "low jcstar:1\nlow jcstar:2\n", "p.conf:2: duplicate: "
	  "importance 'low' is already defined on line 1" },
	{ "unknown scheme", "low jpstar:1\n", "unknown scheme 'jpstar'" },
	{ "level out of range", "low cls:5\n", "level out of range" },
	{ "no requirement", "low\n", "expected IMPORTANCE REQUIREMENT" },
	{ "same scheme twice", "low cls:1 cls:2\n", "cls is required twice" },
	{ "bad name", "l/w cls:1\n", "may hold only letters" },
	{ "empty", "# nothing\n", "defines no importance" },
	{ "too many", "x a:1 b:1 c:1 d:1 e:1 f:1 g:1 h:1 i:1\n",
	  "more than 9 fields" },
};

static void
test_bad_recognition_and_policy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_recognition) /
	    sizeof(bad_recognition[0]); i++) {
		const struct bad_file *c = &bad_recognition[i];
		jcs_ctx *ctx = jcs_ctx_new();
		size_t len = strlen(c->text);
		jcs_recognition *r;

		if (strcmp(c->name, "NUL") == 0)
			len = 28;
		r = jcs_recognition_load_mem(ctx, "r.conf", c->text, len);
		if (c->msg == NULL && r == NULL)
			fail_msg("%s: refused: %s", c->name,
			    jcs_ctx_message(ctx));
		if (c->msg != NULL) {
			if (r != NULL)
				fail_msg("%s: accepted", c->name);
			assert_err(ctx, JCS_ERR_PROFILE);
			assert_msg(ctx, c->msg);
		}
		jcs_recognition_free(r);
		jcs_ctx_free(ctx);
	}
	for (size_t i = 0; i < sizeof(bad_policy) / sizeof(bad_policy[0]);
	    i++) {
		const struct bad_file *c = &bad_policy[i];
		jcs_ctx *ctx = jcs_ctx_new();
		jcs_policy *p = jcs_policy_load_mem(ctx, "p.conf", c->text,
		    strlen(c->text));

		if (c->msg == NULL && p == NULL)
			fail_msg("%s: refused: %s", c->name,
			    jcs_ctx_message(ctx));
		if (c->msg != NULL) {
			if (p != NULL)
				fail_msg("%s: accepted", c->name);
			assert_err(ctx, JCS_ERR_PROFILE);
			assert_msg(ctx, c->msg);
		}
		jcs_policy_free(p);
		jcs_ctx_free(ctx);
	}
	/* oversized: more than 1 MiB, or more than 10000 lines */
	{
		jcs_ctx *ctx = jcs_ctx_new();
		size_t n = 1024 * 1024 + 1;
		char *big = malloc(n + 1);

		assert_non_null(big);
		memset(big, '#', n);
		big[n] = '\0';
		assert_null(jcs_recognition_load_mem(ctx, "r.conf", big, n));
		assert_err(ctx, JCS_ERR_TOO_LARGE);
		assert_null(jcs_policy_load_mem(ctx, "p.conf", big, n));
		assert_err(ctx, JCS_ERR_TOO_LARGE);
		memset(big, '\n', 20000);
		assert_null(jcs_recognition_load_mem(ctx, "r.conf", big,
		    20000));
		assert_err(ctx, JCS_ERR_TOO_LARGE);
		assert_msg(ctx, "more than 10000 lines");
		free(big);
		jcs_ctx_free(ctx);
	}
	/* the shipped files load, and the files equal the built-in copies */
	{
		jcs_ctx *ctx = jcs_ctx_new();
		jcs_recognition *r = jcs_recognition_load_file(ctx,
		    tu_src("certs/recognition.conf"));
		jcs_recognition *b = jcs_recognition_load_builtin(ctx);
		jcs_policy *p = jcs_policy_load_file(ctx,
		    tu_src("certs/policy.conf"));

		assert_non_null(r);
		assert_non_null(b);
		assert_non_null(p);
		assert_int_equal(jcs_recognition_count(r), 5);
		assert_int_equal(jcs_recognition_count(b), 5);
		for (size_t i = 0; i < 5; i++)
			assert_string_equal(jcs_recognition_get(r, i)->basis,
			    jcs_recognition_get(b, i)->basis);
		assert_int_equal(jcs_policy_count(p), 3);
		assert_null(jcs_recognition_load_file(ctx, "/nonexistent"));
		assert_err(ctx, JCS_ERR_IO);
		jcs_recognition_free(r);
		jcs_recognition_free(b);
		jcs_policy_free(p);
		jcs_ctx_free(ctx);
	}
}

/* ---- decisions -------------------------------------------------------- */

#define NB "2026-07-01"
#define NA "2028-07-01"

static const struct decision_case {
	const char *name;
	int scheme, level;          /* the label */
	const char *nb, *na, *at;
	int req_scheme, req_min;    /* the requirement */
	int met;
	const char *line;           /* recognition line it rests on */
	const char *msg;
} decisions[] = {
	/* direct */
	{ "jcstar 1 as jcstar", 1, 1, NB, NA, "2027-01-01", 1, 0,
	  JCS_MET_DIRECT, NULL, "meets JC-STAR \u26051 or higher directly" },
	{ "jcstar 3 as jcstar 3", 1, 3, NB, NA, "2027-01-01", 1, 3,
	  JCS_MET_DIRECT, NULL, NULL },
	{ "jcstar 2 as jcstar 3", 1, 2, NB, NA, "2027-01-01", 1, 3,
	  JCS_MET_NO, NULL, "label is JC-STAR \u26052; JC-STAR \u26053 or "
	  "higher is required" },
	{ "psti as psti", 3, 1, NB, NA, "2027-01-01", 3, 0, JCS_MET_DIRECT,
	  NULL, "meets PSTI compliant directly" },
	/* acceptance: UK PSTI by JC-STAR 1+ */
	{ "jcstar 1 as psti", 1, 1, NB, NA, "2027-01-01", 3, 0,
	  JCS_MET_ACCEPTED, "accept      psti:1    jcstar:1-4",
	  "JC-STAR \u26051 meets PSTI compliant through an acceptance, "
	  "builtin:" },
	{ "jcstar 4 as psti", 1, 4, NB, NA, "2027-01-01", 3, 1,
	  JCS_MET_ACCEPTED, "accept      psti:1    jcstar:1-4", NULL },
	/* acceptance: UK PSTI by any CLS */
	{ "cls 1 as psti", 2, 1, NB, NA, "2027-01-01", 3, 0,
	  JCS_MET_ACCEPTED, "accept      psti:1    cls:1-4", NULL },
	{ "cls 4 as psti", 2, 4, NB, NA, "2027-01-01", 3, 0,
	  JCS_MET_ACCEPTED, "accept      psti:1    cls:1-4", NULL },
	/* negatives */
	{ "expired jcstar as psti", 1, 1, "2024-01-01", "2026-01-01",
	  "2027-01-01", 3, 0, JCS_MET_NO, NULL, "the label is not current" },
	{ "not yet valid cls as psti", 2, 1, "2027-06-01", NA, "2027-01-01",
	  3, 0, JCS_MET_NO, NULL, "the label is not current" },
	{ "jcstar 1 as psti before the regulations", 1, 1, "2025-06-01",
	  "2027-06-01", "2025-11-30", 3, 0, JCS_MET_NO, NULL,
	  "applies only from 2025-12-01" },
	{ "jcstar 1 as psti on the first day", 1, 1, "2025-06-01",
	  "2027-06-01", "2025-12-01", 3, 0, JCS_MET_ACCEPTED,
	  "accept      psti:1    jcstar:1-4", NULL },
	{ "cls 1 as jcstar (simplified only)", 2, 1, NB, NA, "2027-01-01",
	  1, 1, JCS_MET_NO, NULL, "allows only a simplified application on "
	  "CLS labels, not acceptance" },
	{ "jcstar 1 as cls (simplified only)", 1, 1, NB, NA, "2027-01-01",
	  2, 1, JCS_MET_NO, NULL, "allows only a simplified application" },
	{ "psti as jcstar (simplified only)", 3, 1, NB, NA, "2027-01-01", 1,
	  1, JCS_MET_NO, NULL, "allows only a simplified application" },
	{ "cra as psti", 5, 1, NB, NA, "2027-01-01", 3, 0, JCS_MET_NO, NULL,
	  "no acceptance line in builtin covers CRA labels" },
	{ "ctm as jcstar", 4, 1, NB, NA, "2027-01-01", 1, 0, JCS_MET_NO,
	  NULL, "no acceptance line" },
	{ "jcstar 4 as cra", 1, 4, NB, NA, "2027-01-01", 5, 1, JCS_MET_NO,
	  NULL, "CRA default or higher is required" },
};

static void
test_decisions(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_recognition *rec = jcs_recognition_load_mem(ctx, "builtin",
	    jcs_builtin_recognition.text,
	    strlen(jcs_builtin_recognition.text));
	unsigned lines_used[64] = { 0 };
	size_t n_used = 0;

	(void)state;
	assert_non_null(rec);
	for (size_t i = 0; i < sizeof(decisions) / sizeof(decisions[0]); i++) {
		const struct decision_case *c = &decisions[i];
		jcs_label_fields f = tu_ref_fields();
		jcs_requirement req = { c->req_scheme, c->req_min, NULL, 0 };
		jcs_decision d;
		int rc;

		f.scheme = c->scheme;
		f.level = c->level;
		f.lab = "Lab";
		f.not_before = tu_time(c->nb);
		f.not_after = tu_time(c->na);
		rc = jcs_decide(ctx, rec, &f, tu_time(c->at), &req, 1, &d);
		if (d.met != c->met)
			fail_msg("%s: met %d, want %d: %s", c->name, d.met,
			    c->met, d.reason);
		assert_int_equal(rc, c->met != JCS_MET_NO ? 0 : -1);
		if (c->met == JCS_MET_NO)
			assert_err(ctx, JCS_ERR_BELOW_POLICY);
		if (c->line != NULL) {
			assert_non_null(d.line);
			assert_int_equal(d.line->line, rec_line_of(c->line));
			if (n_used < 64)
				lines_used[n_used++] = d.line->line;
		} else
			assert_null(d.line);
		if (c->msg != NULL && strstr(d.reason, c->msg) == NULL)
			fail_msg("%s: reason '%s' lacks '%s'", c->name,
			    d.reason, c->msg);
	}
	/* every acceptance line of the default file was decided on */
	for (size_t i = 0; i < jcs_recognition_count(rec); i++) {
		const jcs_recognition_line *l = jcs_recognition_get(rec, i);
		int seen = 0;

		if (l->kind != JCS_RECOGNITION_ACCEPT)
			continue;
		for (size_t j = 0; j < n_used; j++)
			seen |= lines_used[j] == l->line;
		if (!seen)
			fail_msg("acceptance line %u has no case", l->line);
	}
	/* without a recognition file only direct decisions */
	{
		jcs_label_fields f = tu_ref_fields();
		jcs_requirement req = { JCS_SCHEME_PSTI, 0, NULL, 0 };
		jcs_decision d;

		f.not_before = tu_time(NB);
		f.not_after = tu_time(NA);
		assert_int_equal(jcs_decide(ctx, NULL, &f, tu_time("2027-01-01"),
		    &req, 1, &d), -1);
		assert_msg(ctx, "no acceptance line covers JC-STAR labels");
		/* bad requirements */
		req.min_level = 2;
		assert_int_equal(jcs_decide(ctx, rec, &f, 0, &req, 1, &d), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_int_equal(jcs_decide(ctx, rec, &f, 0, &req, 0, &d), -1);
		assert_err(ctx, JCS_ERR_INVALID_ARG);
	}
	jcs_recognition_free(rec);
	jcs_ctx_free(ctx);
}

/* An organisation's policy: alternatives, and the policy line cited. */
static void
test_policy_decisions(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_recognition *rec = jcs_recognition_load_builtin(ctx);
	static const char text[] =
	    "# our own table\n"
	    "office      jcstar:1 psti:1\n"
	    "plant       jcstar:3 cls:3\n";
	jcs_policy *pol = jcs_policy_load_mem(ctx, "org.conf", text,
	    sizeof(text) - 1);
	const jcs_requirement *req;
	jcs_label_fields f = tu_ref_fields();
	jcs_decision d;
	size_t n;

	(void)state;
	assert_non_null(pol);
	f.not_before = tu_time(NB);
	f.not_after = tu_time(NA);
	/* a CLS level 1 label: office through the PSTI acceptance */
	f.scheme = JCS_SCHEME_CLS;
	f.level = 1;
	assert_int_equal(jcs_policy_lookup(ctx, pol, "office", &req, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(jcs_decide(ctx, rec, &f, tu_time("2027-01-01"), req,
	    n, &d), 0);
	assert_int_equal(d.met, JCS_MET_ACCEPTED);
	assert_int_equal(d.req.scheme, JCS_SCHEME_PSTI);
	assert_non_null(strstr(d.reason, "(policy org.conf:2)"));
	/* plant: CLS 1 meets neither JC-STAR 3 nor CLS 3 */
	assert_int_equal(jcs_policy_lookup(ctx, pol, "plant", &req, &n), 0);
	assert_int_equal(jcs_decide(ctx, rec, &f, tu_time("2027-01-01"), req,
	    n, &d), -1);
	assert_msg(ctx, "CLS level 3 or higher is required");
	assert_msg(ctx, "org.conf:3");
	/* CLS 3 meets plant directly, through its second alternative */
	f.level = 3;
	f.lab = "Lab";
	assert_int_equal(jcs_decide(ctx, rec, &f, tu_time("2027-01-01"), req,
	    n, &d), 0);
	assert_int_equal(d.met, JCS_MET_DIRECT);
	assert_int_equal(d.req.scheme, JCS_SCHEME_CLS);
	jcs_policy_free(pol);
	jcs_recognition_free(rec);
	jcs_ctx_free(ctx);
}

/* ---- issuance under each profile ---------------------------------------- */

static jcs_ca *
new_ca(jcs_ctx *ctx, const char *name)
{
	jcs_ca_init_opts o;
	char dir[4200];
	jcs_ca *ca;

	snprintf(dir, sizeof(dir), "%s/%s", tmp, name);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = name;
	o.profile_dir = prof;
	o.now = tu_time("2026-01-01");
	assert_int_equal(jcs_ca_init(ctx, &o), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);
	return ca;
}

static const struct issue_case {
	const char *name;
	int scheme, level;
	const char *lab, *support;
	int days;
	jcs_err want;
	const char *msg;
	const char *until;  /* expected not_after (date) when issued */
} issues[] = {
	{ "jcstar 1", 1, 1, NULL, NULL, 0, JCS_OK, NULL, "2028-06-01" },
	{ "jcstar 3 without lab", 1, 3, NULL, NULL, 0, JCS_ERR_POLICY_RULE,
	  "JC-STAR \u26053 needs a third-party assessment", NULL },
	{ "jcstar 732 days", 1, 1, NULL, NULL, 732, JCS_ERR_POLICY_RULE,
	  "exceeds the JC-STAR maximum of 2 years", NULL },
	{ "jcstar 5", 1, 5, NULL, NULL, 0, JCS_ERR_INVALID_ARG,
	  "level 5 is not defined for JC-STAR (1 to 4", NULL },
	{ "cls 2 self-declared", 2, 2, NULL, NULL, 0, JCS_OK, NULL,
	  "2029-06-01" },
	{ "cls 3 without lab", 2, 3, NULL, NULL, 0, JCS_ERR_POLICY_RULE,
	  "CLS level 3 needs a third-party assessment", NULL },
	{ "cls 4 with lab", 2, 4, "Lab", NULL, 0, JCS_OK, NULL,
	  "2029-06-01" },
	{ "cls 3 years + 1 day", 2, 1, NULL, NULL, 1097, JCS_ERR_POLICY_RULE,
	  "maximum of 3 years", NULL },
	{ "cls ends with support", 2, 1, NULL, "2027-03-31", 0, JCS_OK, NULL,
	  "2027-04-01" },
	{ "cls past support", 2, 1, NULL, "2027-03-31", 400,
	  JCS_ERR_POLICY_RULE, "runs past the support period", NULL },
	{ "psti without support", 3, 1, NULL, NULL, 0, JCS_ERR_POLICY_RULE,
	  "PSTI labels state the end of the support period", NULL },
	{ "psti until support", 3, 1, NULL, "2029-12-31", 0, JCS_OK, NULL,
	  "2030-01-01" },
	{ "psti level 2", 3, 2, NULL, "2029-12-31", 0, JCS_ERR_INVALID_ARG,
	  "only level 1", NULL },
	{ "ctm without lab", 4, 1, NULL, "2029-12-31", 0, JCS_ERR_POLICY_RULE,
	  "Cyber Trust Mark needs a third-party assessment", NULL },
	{ "ctm without support", 4, 1, "CyberLAB", NULL, 0,
	  JCS_ERR_POLICY_RULE, "support period", NULL },
	{ "ctm", 4, 1, "CyberLAB", "2029-12-31", 0, JCS_OK, NULL,
	  "2028-06-01" },
	/* 5 years would be 2031-06-01: the signer (2026-01-01 + 1827 days)
	 * ends first */
	{ "cra default", 5, 1, NULL, NULL, 0, JCS_OK, NULL, "2031-01-02" },
	{ "cra important I without body", 5, 2, NULL, NULL, 0,
	  JCS_ERR_POLICY_RULE, "CRA important I needs a third-party", NULL },
	{ "cra critical", 5, 4, "Notified Body 1234", "2028-12-31", 0, JCS_OK,
	  NULL, "2029-01-01" },
};

static void
test_issuance_rules(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = new_ca(ctx, "rules");

	(void)state;
	for (size_t i = 0; i < sizeof(issues) / sizeof(issues[0]); i++) {
		const struct issue_case *c = &issues[i];
		jcs_issue_opts o;
		jcs_label_fields f = tu_ref_fields();
		char id[32], d[16];
		jcs_label *l;

		snprintf(id, sizeof(id), "R-%zu", i);
		memset(&o, 0, sizeof(o));
		o.scheme = c->scheme;
		o.level = c->level;
		o.product = f.product;
		o.product.reg_id = id;
		o.lab = c->lab;
		o.support_until = c->support != NULL ? tu_time(c->support) : 0;
		o.not_before = tu_time("2026-06-01");
		o.valid_days = c->days;
		l = jcs_ca_issue(ctx, ca, &o);
		if (c->want == JCS_OK && l == NULL)
			fail_msg("%s: refused: %s", c->name,
			    jcs_ctx_message(ctx));
		if (c->want != JCS_OK) {
			if (l != NULL)
				fail_msg("%s: issued", c->name);
			assert_err(ctx, c->want);
			assert_msg(ctx, c->msg);
			continue;
		}
		/* the end the profile's rules give (or the signer's) */
		assert_string_equal(jcs_date_format(
		    jcs_label_get_fields(l)->not_after, d, sizeof(d)),
		    c->until);
		jcs_label_free(l);
	}
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

/* An operator edits a profile: the new rule applies without a rebuild. */
static void
test_edited_profile(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = new_ca(ctx, "edited");
	char dir[4200], path[4300];
	jcs_schemes *set;
	jcs_issue_opts o;
	jcs_label_fields f = tu_ref_fields();
	jcs_label *l;
	const uint8_t *der;
	size_t len;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/myschemes", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/jcstar.scheme", dir);
	{
		/* the shipped JC-STAR profile with a 1-year cap */
		size_t n;
		uint8_t *text = tu_read(tu_src("certs/schemes/jcstar.scheme"),
		    &n);
		char *p = strstr((char *)text, "max_validity = 2 years");

		assert_non_null(p);
		memcpy(p, "max_validity = 1 years", 22);
		tu_write(path, text, n);
		free(text);
	}
	set = jcs_schemes_load_dir(ctx, dir);
	assert_non_null(set);
	jcs_ctx_set_schemes(ctx, set);
	assert_ptr_equal(jcs_ctx_schemes(ctx), set);
	memset(&o, 0, sizeof(o));
	o.scheme = JCS_SCHEME_JCSTAR;
	o.level = 1;
	o.product = f.product;
	o.not_before = tu_time("2026-06-01");
	o.valid_days = 400;
	assert_null(jcs_ca_issue(ctx, ca, &o));
	assert_msg(ctx, "maximum of 1 year");
	assert_msg(ctx, "myschemes/jcstar.scheme");
	/* only JC-STAR is loaded: a CLS label is neither issued nor read */
	o.valid_days = 0;
	o.scheme = JCS_SCHEME_CLS;
	assert_null(jcs_ca_issue(ctx, ca, &o));
	assert_msg(ctx, "no profile for scheme cls");
	jcs_ctx_set_schemes(ctx, NULL);
	o.product.reg_id = "CLS-X";
	l = jcs_ca_issue(ctx, ca, &o);
	assert_non_null(l);
	der = jcs_label_der(l, &len);
	jcs_ctx_set_schemes(ctx, set);
	assert_null(jcs_label_from_der(ctx, der, len));
	assert_err(ctx, JCS_ERR_MALFORMED);
	assert_msg(ctx, "no profile for scheme cls");
	jcs_label_free(l);
	jcs_ctx_set_schemes(ctx, NULL);
	jcs_schemes_free(set);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

/* ---- simplified applications ------------------------------------------- */

static int
count_rows(const char *ca_dir, const char *sql)
{
	char path[4300];
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	snprintf(path, sizeof(path), "%s/registry.db", ca_dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* What jcs_ca_find_registration gave, copied out of the callback. */
struct got {
	char reg_id[40], basis_kind[16], basis_recognition[600];
	char statement[64];
	int scheme, basis_scheme, basis_level;
	long labels;
};

static int
got_reg(void *arg, const jcs_registration_record *r)
{
	struct got *g = arg;

	memset(g, 0, sizeof(*g));
	snprintf(g->reg_id, sizeof(g->reg_id), "%s", r->reg_id);
	snprintf(g->basis_kind, sizeof(g->basis_kind), "%s",
	    r->basis_kind != NULL ? r->basis_kind : "");
	snprintf(g->basis_recognition, sizeof(g->basis_recognition), "%s",
	    r->basis_recognition != NULL ? r->basis_recognition : "");
	if (r->basis_kind != NULL && strcmp(r->basis_kind, "statement") == 0)
		snprintf(g->statement, sizeof(g->statement), "%.*s",
		    (int)r->basis_content_len,
		    (const char *)r->basis_content);
	g->scheme = r->scheme;
	g->basis_scheme = r->basis_scheme;
	g->basis_level = r->basis_level;
	g->labels = r->labels;
	return 0;
}

static void
test_simplified_application(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *sg = new_ca(ctx, "sg"), *jp = new_ca(ctx, "jp");
	jcs_recognition *rec = jcs_recognition_load_builtin(ctx);
	jcs_label_fields f = tu_ref_fields();
	jcs_issue_opts o;
	jcs_registration reg;
	jcs_basis *b, *b2, *stmt;
	struct got g;
	jcs_trust *sgt, *jpt;
	jcs_label *cls1, *cls2;
	const uint8_t *der;
	char *pem, jpdir[4200];
	size_t len;

	(void)state;
	assert_non_null(rec);
	pem = jcs_ca_trust_pem(ctx, sg);
	sgt = jcs_trust_load_mem(ctx, (const uint8_t *)pem, strlen(pem));
	jcs_free(pem);
	pem = jcs_ca_trust_pem(ctx, jp);
	jpt = jcs_trust_load_mem(ctx, (const uint8_t *)pem, strlen(pem));
	jcs_free(pem);
	assert_non_null(sgt);
	assert_non_null(jpt);
	memset(&o, 0, sizeof(o));
	o.scheme = JCS_SCHEME_CLS;
	o.level = 1;
	o.product = f.product;
	o.product.reg_id = "SG-1";
	cls1 = jcs_ca_issue(ctx, sg, &o);
	o.level = 2;
	o.product.reg_id = "SG-2";
	cls2 = jcs_ca_issue(ctx, sg, &o);
	assert_non_null(cls1);
	assert_non_null(cls2);

	/* the basis must verify against the foreign body's bundle */
	der = jcs_label_der(cls1, &len);
	assert_null(jcs_basis_from_label(ctx, jpt, der, len, 0));
	assert_err(ctx, JCS_ERR_UNKNOWN_ISSUER);
	assert_msg(ctx, "basis label does not verify");
	assert_null(jcs_basis_from_label(ctx, sgt, der, len - 3, 0));
	assert_msg(ctx, "basis label: ");
	b = jcs_basis_from_label(ctx, sgt, der, len, 0);
	assert_non_null(b);
	assert_int_equal(jcs_basis_scheme(b), JCS_SCHEME_CLS);
	assert_int_equal(jcs_basis_level(b), 1);

	memset(&reg, 0, sizeof(reg));
	reg.scheme = JCS_SCHEME_JCSTAR;
	reg.level = 1;
	reg.product = f.product;
	reg.product.reg_id = "JP-1";
	reg.basis = b;
	reg.recognition = rec;
	assert_int_equal(jcs_ca_register(ctx, jp, &reg), 0);
	/* JC-STAR 2 on a CLS 1 label: no line allows it */
	reg.product.reg_id = "JP-2";
	reg.level = 2;
	assert_int_equal(jcs_ca_register(ctx, jp, &reg), -1);
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	assert_msg(ctx, "allows JC-STAR \u26052 on the strength of CLS level "
	    "1");
	/* another model */
	reg.level = 1;
	reg.product.model = "OTHER-1";
	assert_int_equal(jcs_ca_register(ctx, jp, &reg), -1);
	assert_msg(ctx, "for model");
	reg.product.model = f.product.model;
	/* CLS level 2 is no basis for JC-STAR 1 */
	jcs_basis_free(b);
	der = jcs_label_der(cls2, &len);
	b = jcs_basis_from_label(ctx, sgt, der, len, 0);
	assert_non_null(b);
	reg.basis = b;
	assert_int_equal(jcs_ca_register(ctx, jp, &reg), -1);
	assert_msg(ctx, "on the strength of CLS level 2");
	/* a PSTI statement of compliance */
	stmt = jcs_basis_from_statement(ctx, JCS_SCHEME_PSTI, 1,
	    "Statement of compliance SoC-1\n", 30);
	assert_non_null(stmt);
	reg.basis = stmt;
	reg.product.reg_id = "JP-3";
	assert_int_equal(jcs_ca_register(ctx, jp, &reg), 0);
	/* but not for CLS 1 */
	reg.scheme = JCS_SCHEME_CLS;
	reg.product.reg_id = "JP-4";
	assert_int_equal(jcs_ca_register(ctx, jp, &reg), -1);
	assert_msg(ctx, "allows CLS level 1 on the strength of PSTI "
	    "compliant");
	/* bad statements */
	assert_null(jcs_basis_from_statement(ctx, JCS_SCHEME_PSTI, 1, "\n",
	    1));
	assert_msg(ctx, "empty");
	assert_null(jcs_basis_from_statement(ctx, JCS_SCHEME_PSTI, 2, "x",
	    1));
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_null(jcs_basis_from_statement(ctx, JCS_SCHEME_PSTI, 1,
	    "a\xff", 2));
	assert_msg(ctx, "not UTF-8");
	assert_null(jcs_basis_from_statement(ctx, JCS_SCHEME_PSTI, 1,
	    "line 1\nline \x1b[2", 15));
	assert_msg(ctx, "(byte 13: a control character");
	/* several lines (and tabs) are text */
	b2 = jcs_basis_from_statement(ctx, JCS_SCHEME_PSTI, 1,
	    "line 1\r\n\tline 2\n", 16);
	assert_non_null(b2);
	jcs_basis_free(b2);
	/* the registry gives the registrations back, with their bases */
	assert_int_equal(jcs_ca_find_registration(ctx, jp, "JP-1", got_reg,
	    &g), 0);
	assert_string_equal(g.reg_id, "JP-1");
	assert_int_equal(g.scheme, JCS_SCHEME_JCSTAR);
	assert_string_equal(g.basis_kind, "label");
	assert_int_equal(g.basis_scheme, JCS_SCHEME_CLS);
	assert_int_equal(g.basis_level, 1);
	assert_non_null(strstr(g.basis_recognition, "Japan-Singapore"));
	assert_int_equal(g.labels, 0);
	assert_int_equal(jcs_ca_find_registration(ctx, jp, "JP-3", got_reg,
	    &g), 0);
	assert_string_equal(g.basis_kind, "statement");
	assert_int_equal(g.basis_scheme, JCS_SCHEME_PSTI);
	assert_string_equal(g.statement, "Statement of compliance SoC-1");
	assert_int_equal(jcs_ca_find_registration(ctx, jp, "JP-2", got_reg,
	    &g), -1);
	assert_err(ctx, JCS_ERR_NOT_FOUND);
	/* two registrations rest on a basis, recorded with the line */
	snprintf(jpdir, sizeof(jpdir), "%s/jp", tmp);
	jcs_ca_free(jp);
	jp = NULL;
	assert_int_equal(count_rows(jpdir, "SELECT count(*) FROM bases"), 2);
	assert_int_equal(count_rows(jpdir, "SELECT count(*) FROM bases WHERE "
	    "kind = 'label' AND scheme = 2 AND level = 1 AND recognition LIKE "
	    "'certs/recognition.conf:%: Japan-Singapore%'"), 1);
	assert_int_equal(count_rows(jpdir, "SELECT count(*) FROM bases WHERE "
	    "kind = 'statement' AND CAST(content AS TEXT) = "
	    "'Statement of compliance SoC-1'"), 1);
	assert_int_equal(count_rows(jpdir, "SELECT count(*) FROM "
	    "registrations"), 2);
	assert_int_equal(count_rows(jpdir, "SELECT count(*) FROM audit WHERE "
	    "result LIKE '%simplified application on statement psti%'"), 1);
	jcs_basis_free(b);
	jcs_basis_free(stmt);
	jcs_label_free(cls1);
	jcs_label_free(cls2);
	jcs_trust_free(sgt);
	jcs_trust_free(jpt);
	jcs_recognition_free(rec);
	jcs_ca_free(sg);
	jcs_ctx_free(ctx);
}

/* A simplified-application line applies only from its date. */
static void
test_simplified_dates(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_recognition *rec = jcs_recognition_load_builtin(ctx);
	const jcs_recognition_line *l;

	(void)state;
	l = jcs_recognition_simplified(ctx, rec, JCS_SCHEME_JCSTAR, 1,
	    JCS_SCHEME_CLS, 1, tu_time("2026-06-01"));
	assert_non_null(l);
	assert_int_equal(l->line, rec_line_of("simplified  jcstar:1  cls:1"));
	assert_null(jcs_recognition_simplified(ctx, rec, JCS_SCHEME_JCSTAR, 1,
	    JCS_SCHEME_CLS, 1, tu_time("2026-05-31")));
	assert_msg(ctx, "only from 2026-06-01");
	l = jcs_recognition_simplified(ctx, rec, JCS_SCHEME_CLS, 1,
	    JCS_SCHEME_JCSTAR, 1, tu_time("2026-06-01"));
	assert_non_null(l);
	assert_int_equal(l->line, rec_line_of("simplified  cls:1     jcstar:1"));
	l = jcs_recognition_simplified(ctx, rec, JCS_SCHEME_JCSTAR, 1,
	    JCS_SCHEME_PSTI, 1, tu_time("2026-01-01"));
	assert_non_null(l);
	assert_int_equal(l->line, rec_line_of("simplified  jcstar:1  psti:1"));
	assert_null(jcs_recognition_simplified(ctx, rec, JCS_SCHEME_JCSTAR, 1,
	    JCS_SCHEME_PSTI, 1, tu_time("2025-12-31")));
	/* acceptance lines are no basis for a registration */
	assert_null(jcs_recognition_simplified(ctx, rec, JCS_SCHEME_PSTI, 1,
	    JCS_SCHEME_JCSTAR, 1, tu_time("2027-01-01")));
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	jcs_recognition_free(rec);
	jcs_ctx_free(ctx);
}

/* jcs_requirement_parse: what verify --as/--min-level, serve's as= and
 * min_level= and register --basis-scheme read */
static void
test_requirement_parse(void **state)
{
	static const struct {
		const char *scheme, *level;
		int rc, want_scheme, want_level;
		const char *msg;
	} cases[] = {
		{ NULL, NULL, 0, JCS_SCHEME_JCSTAR, 0, NULL },
		{ NULL, "3", 0, JCS_SCHEME_JCSTAR, 3, NULL },
		{ "cls", "4", 0, JCS_SCHEME_CLS, 4, NULL },
		{ "psti:1", NULL, 0, JCS_SCHEME_PSTI, 1, NULL },
		{ "cra:4", NULL, 0, JCS_SCHEME_CRA, 4, NULL },
		{ "cyber-trust-mark", NULL, 0, JCS_SCHEME_CYBER_TRUST_MARK, 0,
		  NULL },
		{ "jpstar", NULL, -1, 0, 0,
		  "unknown scheme 'jpstar' for S (jcstar, cls" },
		{ "JCSTAR", "1", 0, JCS_SCHEME_JCSTAR, 1, NULL }, /* any case */
		{ "", NULL, -1, 0, 0, "unknown scheme '' for S" },
		{ ":1", NULL, -1, 0, 0, "unknown scheme '' for S" },
		{ "x123456789012345678901234567890123456789", NULL, -1, 0, 0,
		  "unknown scheme 'x1234567890123456789012345678901...'" },
		{ "psti", "2", -1, 0, 0, "L for PSTI must be 1, not '2'" },
		{ "jcstar", "0", -1, 0, 0,
		  "L for JC-STAR must be a level from 1 to 4, not '0'" },
		{ "jcstar", "5", -1, 0, 0, "must be a level from 1 to 4" },
		{ "jcstar", "+3", -1, 0, 0, "not '+3'" },
		{ "jcstar", " 3", -1, 0, 0, "not ' 3'" },
		{ "jcstar", "", -1, 0, 0, "not ''" },
		{ "jcstar", "99999999999", -1, 0, 0, "must be a level" },
		{ "jcstar:", NULL, -1, 0, 0,
		  "the level in S for JC-STAR must be a level from 1 to 4, "
		  "not ''" },
		{ "jcstar:3:4", NULL, -1, 0, 0, "not '3:4'" },
		{ "cra:5", NULL, -1, 0, 0, "the level in S for CRA" },
		{ "jcstar:3", "3", -1, 0, 0, "give the level once: S SCHEME:N, "
		  "or L N" },
	};
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jcs_requirement r;
		int rc = jcs_requirement_parse(ctx, cases[i].scheme, "S",
		    cases[i].level, "L", &r);

		if (rc != cases[i].rc)
			fail_msg("case %zu (%s, %s): rc %d, want %d (%s)", i,
			    cases[i].scheme, cases[i].level, rc, cases[i].rc,
			    jcs_ctx_message(ctx));
		if (rc == 0) {
			assert_int_equal(r.scheme, cases[i].want_scheme);
			assert_int_equal(r.min_level, cases[i].want_level);
			assert_null(r.source);
		} else if (strstr(jcs_ctx_message(ctx), cases[i].msg) ==
		    NULL) {
			fail_msg("case %zu: message '%s' lacks '%s'", i,
			    jcs_ctx_message(ctx), cases[i].msg);
		}
	}
	assert_int_equal(jcs_requirement_parse(ctx, "psti", "S", NULL, "L",
	    NULL), -1);
	assert_int_equal(jcs_ctx_error(ctx), JCS_ERR_INVALID_ARG);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_matches_files),
		cmocka_unit_test(test_profile_values),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_profile_dirs),
		cmocka_unit_test(test_bad_recognition_and_policy),
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_policy_decisions),
		cmocka_unit_test(test_issuance_rules),
		cmocka_unit_test(test_edited_profile),
		cmocka_unit_test(test_simplified_application),
		cmocka_unit_test(test_simplified_dates),
		cmocka_unit_test(test_requirement_parse),
	};

	return cmocka_run_group_tests_name("scheme", tests, setup, teardown);
}
