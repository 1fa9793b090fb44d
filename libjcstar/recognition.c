/* recognition.c - what one scheme recognises of another (acceptance and
 * simplified application), procurement policies, and the decision whether
 * a label meets a requirement (docs/SCHEMES.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define REC_MAX_FILE (1024 * 1024)
#define REC_MAX_LINE 1024
#define REC_MAX_LINES 10000
#define REC_MAX_BASIS 400
#define POLICY_MAX_ALTS 8
#define POLICY_MAX_NAME 32

/* A file as both loaders keep it: split in place, the records' strings
 * pointing into it. */
struct text {
	char *buf;
	char *name;
};

struct jcs_recognition {
	jcs_recognition_line *v;
	size_t n;
	struct text t;
};

struct policy_row {
	const char *importance;
	jcs_requirement req[POLICY_MAX_ALTS];
	size_t n;
};

struct jcs_policy {
	struct policy_row *v;
	size_t n;
	struct text t;
};

/* ---- line splitting shared by both files -------------------------------- */

/* Calls fn for each line of text that is not blank or a comment, with its
 * fields split on white space (at most max; the last takes the rest of the
 * line when rest is set). */
#define EACH_MAX_FIELDS 16
typedef int (*line_fn)(jcs_ctx *, void *, const char *, unsigned, char **,
    int);

static int
each_line(jcs_ctx *ctx, const char *file, char *text, size_t len, int max,
    int rest, line_fn fn, void *arg)
{
	char *line = text, *end = text + len;
	unsigned lineno = 0;

	if (max > EACH_MAX_FIELDS)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "too many fields");
	if (strlen(text) != len)
		return jcs_fail(ctx, JCS_ERR_PROFILE, "%s: contains a NUL byte",
		    file);
	while (line < end) {
		/* max is at most EACH_MAX_FIELDS (callers' constants) */
		char *nl = strchr(line, '\n'), *p, *f[EACH_MAX_FIELDS];
		int n = 0;
		size_t bad;

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		lineno++;
		if (lineno > REC_MAX_LINES)
			return jcs_fail(ctx, JCS_ERR_TOO_LARGE, "%s: more than "
			    "%d lines", file, REC_MAX_LINES);
		if ((size_t)(nl - line) > REC_MAX_LINE)
			return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
			    (int)lineno, "line is longer than %d bytes",
			    REC_MAX_LINE);
		if (jcs_utf8_check(line, strlen(line), &bad) == -1)
			return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
			    (int)lineno, "not valid UTF-8 (byte %zu)", bad + 1);
		p = line;
		line = nl + 1;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '\0' || (n == 0 && *p == '#'))
				break;
			if (n == max) {
				if (!rest)
					return jcs_fail_at(ctx,
					    JCS_ERR_PROFILE, file, (int)lineno,
					    "more than %d fields", max);
				break;
			}
			f[n++] = p;
			if (rest && n == max) {
				char *e = p + strlen(p);

				while (e > p && (e[-1] == ' ' ||
				    e[-1] == '\t'))
					e--;
				*e = '\0';
				break;
			}
			while (*p != '\0' && *p != ' ' && *p != '\t')
				p++;
			if (*p != '\0')
				*p++ = '\0';
		}
		if (n == 0)
			continue;
		if (fn(ctx, arg, file, lineno, f, n) == -1)
			return -1;
	}
	return 0;
}

/* Finds the scheme called name and its loaded profile. Returns 0, 1 if no
 * scheme has that name, or 2 if the scheme's profile is not loaded. */
static int
lookup(const jcs_ctx *ctx, const char *name, int *scheme,
    const jcs_profile **p)
{
	if ((*scheme = jcs_scheme_from_name(name)) == 0)
		return 1;
	if ((*p = jcs_profile_of(ctx, *scheme)) == NULL)
		return 2;
	return 0;
}

#define KNOWN_SCHEMES "jcstar, cls, psti, cyber-trust-mark, cra"

/* Parses "SCHEME:LEVEL" or "SCHEME:LOW-HIGH", checked against the loaded
 * profiles. */
static int
parse_ref(jcs_ctx *ctx, const char *file, unsigned line, const char *what,
    char *s, int range, int *scheme, int *lo, int *hi)
{
	char *colon = strchr(s, ':');
	const jcs_profile *p = NULL;
	int found;

	if (colon == NULL)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "%s '%s' must be SCHEME:LEVEL%s", what, s,
		    range ? " or SCHEME:LOW-HIGH" : "");
	*colon = '\0';
	found = lookup(ctx, s, scheme, &p);
	if (found == 1)
		jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "unknown scheme '%s' in %s (known: " KNOWN_SCHEMES ")", s,
		    what);
	*colon = ':';
	if (found == 1)
		return -1;
	if (found == 2)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "no profile for scheme %s is loaded",
		    jcs_scheme_name(*scheme));
	if (jcs_parse_level_range(colon + 1, lo, hi) == -1 ||
	    (!range && *lo != *hi))
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "%s '%s': give one level%s", what, s,
		    range ? " or a range LOW-HIGH" : "");
	if (*lo < p->min_level || *hi > p->max_level)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "%s '%s': level out of range (%s has levels %d to %d)",
		    what, s, p->display, p->min_level, p->max_level);
	return 0;
}

/* ---- a requirement given by a user ------------------------------------- */

int
jcs_requirement_parse(jcs_ctx *ctx, const char *scheme,
    const char *scheme_what, const char *level, const char *level_what,
    jcs_requirement *out)
{
	const jcs_profile *p = NULL;
	const char *colon, *lv = level;
	char name[33], what[80];
	size_t len;
	int found;

	if (out == NULL || scheme_what == NULL || level_what == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "jcs_requirement_parse: NULL argument");
	memset(out, 0, sizeof(*out));
	if (scheme == NULL)
		scheme = "jcstar";
	snprintf(what, sizeof(what), "%s", level_what);
	len = strlen(scheme);
	if ((colon = strchr(scheme, ':')) != NULL) {
		if (level != NULL)
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "give the level once: %s SCHEME:N, or %s N",
			    scheme_what, level_what);
		len = (size_t)(colon - scheme);
		lv = colon + 1;
		snprintf(what, sizeof(what), "the level in %s", scheme_what);
	}
	if (len >= sizeof(name))
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "unknown scheme "
		    "'%.32s...' for %s (" KNOWN_SCHEMES ")", scheme,
		    scheme_what);
	memcpy(name, scheme, len);
	name[len] = '\0';
	if ((found = lookup(ctx, name, &out->scheme, &p)) == 1)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "unknown scheme "
		    "'%s' for %s (" KNOWN_SCHEMES ")", name, scheme_what);
	if (found == 2)
		return jcs_fail(ctx, JCS_ERR_NOT_FOUND, "no profile for "
		    "scheme %s is loaded", jcs_scheme_name(out->scheme));
	if (lv != NULL && jcs_parse_int(lv, strlen(lv), p->min_level,
	    p->max_level, &out->min_level) == -1) {
		if (p->min_level == p->max_level)
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "%s for %s "
			    "must be %d, not '%.20s'", what, p->display,
			    p->min_level, lv);
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "%s for %s must be "
		    "a level from %d to %d, not '%.20s'", what, p->display,
		    p->min_level, p->max_level, lv);
	}
	return 0;
}

/* ---- recognition -------------------------------------------------------- */

static int
rec_line(jcs_ctx *ctx, void *arg, const char *file, unsigned line, char **f,
    int n)
{
	jcs_recognition *rec = arg;
	jcs_recognition_line *l = &rec->v[rec->n];
	int lo = 0, hi = 0;

	if (n < 5)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "expected KIND REQUIREMENT LABEL FROM BASIS, found %d "
		    "field%s", n, n == 1 ? "" : "s");
	memset(l, 0, sizeof(*l));
	if (strcmp(f[0], "accept") == 0)
		l->kind = JCS_RECOGNITION_ACCEPT;
	else if (strcmp(f[0], "simplified") == 0)
		l->kind = JCS_RECOGNITION_SIMPLIFIED;
	else
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "unknown kind '%s' (known: accept simplified)", f[0]);
	if (parse_ref(ctx, file, line, "requirement", f[1], 0, &l->scheme,
	    &lo, &hi) == -1)
		return -1;
	l->level = lo;
	if (parse_ref(ctx, file, line, "label", f[2], 1, &l->label_scheme,
	    &l->label_min, &l->label_max) == -1)
		return -1;
	if (l->label_scheme == l->scheme)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "a scheme does not need to recognise itself (%s and %s)",
		    f[1], f[2]);
	if (strcmp(f[3], "-") != 0) {
		char date[16];

		if (strlen(f[3]) == 7)
			snprintf(date, sizeof(date), "%s-01", f[3]);
		else
			snprintf(date, sizeof(date), "%.10s", f[3]);
		if ((strlen(f[3]) != 7 && strlen(f[3]) != 10) ||
		    jcs_time_parse(NULL, date, &l->from) == -1)
			return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
			    (int)line, "FROM '%s' must be YYYY-MM-DD, YYYY-MM "
			    "or '-'", f[3]);
	}
	if (strlen(f[4]) > REC_MAX_BASIS)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "basis is longer than %d bytes", REC_MAX_BASIS);
	l->basis = f[4];
	l->file = rec->t.name;
	l->line = line;
	for (size_t i = 0; i < rec->n; i++) {
		const jcs_recognition_line *o = &rec->v[i];

		if (o->kind == l->kind && o->scheme == l->scheme &&
		    o->level == l->level && o->label_scheme ==
		    l->label_scheme && o->label_min <= l->label_max &&
		    l->label_min <= o->label_max)
			return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
			    (int)line, "duplicate: line %u already says "
			    "'%s %s' for %s labels of these levels", o->line,
			    f[0], f[1], jcs_scheme_name(l->label_scheme));
	}
	rec->n++;
	return 0;
}

/* Copies name's text (len bytes) into t. Returns room for one record of
 * elem bytes per line, zeroed, or NULL (t is freed by the caller's free
 * function either way). */
static void *
text_copy(jcs_ctx *ctx, struct text *t, const char *name, const char *text,
    size_t len, size_t elem)
{
	size_t lines = 1;
	void *v;

	if (len > REC_MAX_FILE) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE, "%s: larger than %d bytes",
		    name, REC_MAX_FILE);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	if ((t->buf = malloc(len + 1)) == NULL ||
	    (t->name = strdup(name)) == NULL ||
	    (v = calloc(lines, elem)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(t->buf, text, len);
	t->buf[len] = '\0';
	return v;
}

static void
text_free(struct text *t)
{
	free(t->buf);
	free(t->name);
}

jcs_recognition *
jcs_recognition_load_mem(jcs_ctx *ctx, const char *name, const char *text,
    size_t len)
{
	jcs_recognition *rec;

	if ((rec = calloc(1, sizeof(*rec))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if ((rec->v = text_copy(ctx, &rec->t, name, text, len,
	    sizeof(*rec->v))) == NULL ||
	    each_line(ctx, name, rec->t.buf, len, 5, 1, rec_line, rec) == -1) {
		jcs_recognition_free(rec);
		return NULL;
	}
	jcs_ok(ctx);
	return rec;
}

jcs_recognition *
jcs_recognition_load_file(jcs_ctx *ctx, const char *path)
{
	jcs_recognition *rec;
	uint8_t *buf;
	size_t len;

	if (jcs_read_file(ctx, path, REC_MAX_FILE, &buf, &len) == -1)
		return NULL;
	rec = jcs_recognition_load_mem(ctx, path, (const char *)buf, len);
	free(buf);
	return rec;
}

jcs_recognition *
jcs_recognition_load_builtin(jcs_ctx *ctx)
{
	return jcs_recognition_load_mem(ctx, jcs_builtin_recognition.name,
	    jcs_builtin_recognition.text, strlen(jcs_builtin_recognition.text));
}

void
jcs_recognition_free(jcs_recognition *rec)
{
	if (rec == NULL)
		return;
	free(rec->v);
	text_free(&rec->t);
	free(rec);
}

size_t
jcs_recognition_count(const jcs_recognition *rec)
{
	return rec != NULL ? rec->n : 0;
}

const jcs_recognition_line *
jcs_recognition_get(const jcs_recognition *rec, size_t i)
{
	return rec != NULL && i < rec->n ? &rec->v[i] : NULL;
}

/* ---- policy ------------------------------------------------------------- */

static int
policy_line(jcs_ctx *ctx, void *arg, const char *file, unsigned line,
    char **f, int n)
{
	jcs_policy *pol = arg;
	struct policy_row *row = &pol->v[pol->n];
	const char *name = f[0];

	if (n < 2)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "expected IMPORTANCE REQUIREMENT...");
	if (strlen(name) > POLICY_MAX_NAME)
		return jcs_fail_at(ctx, JCS_ERR_PROFILE, file, (int)line,
		    "importance '%s' is longer than %d characters", name,
		    POLICY_MAX_NAME);
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
			    (int)line, "importance '%s' may hold only "
			    "letters, digits, '-' and '_'", name);
	for (size_t i = 0; i < pol->n; i++)
		if (strcmp(pol->v[i].importance, name) == 0)
			return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
			    (int)line, "duplicate: importance '%s' is "
			    "already defined on line %u", name,
			    pol->v[i].req[0].line);
	memset(row, 0, sizeof(*row));
	row->importance = name;
	for (int i = 1; i < n; i++) {
		jcs_requirement *r = &row->req[row->n];
		int lo, hi;

		if (parse_ref(ctx, file, line, "requirement", f[i], 0,
		    &r->scheme, &lo, &hi) == -1)
			return -1;
		for (size_t j = 0; j < row->n; j++)
			if (row->req[j].scheme == r->scheme)
				return jcs_fail_at(ctx, JCS_ERR_PROFILE, file,
				    (int)line, "duplicate: %s is required "
				    "twice", jcs_scheme_name(r->scheme));
		r->min_level = lo;
		r->source = pol->t.name;
		r->line = line;
		row->n++;
	}
	pol->n++;
	return 0;
}

jcs_policy *
jcs_policy_load_mem(jcs_ctx *ctx, const char *name, const char *text,
    size_t len)
{
	jcs_policy *pol;

	if ((pol = calloc(1, sizeof(*pol))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	/* 1 name + POLICY_MAX_ALTS requirements */
	if ((pol->v = text_copy(ctx, &pol->t, name, text, len,
	    sizeof(*pol->v))) == NULL ||
	    each_line(ctx, name, pol->t.buf, len, 1 + POLICY_MAX_ALTS, 0,
	    policy_line, pol) == -1)
		goto err;
	if (pol->n == 0) {
		jcs_fail(ctx, JCS_ERR_PROFILE, "%s: defines no importance",
		    name);
		goto err;
	}
	jcs_ok(ctx);
	return pol;
err:
	jcs_policy_free(pol);
	return NULL;
}

jcs_policy *
jcs_policy_load_file(jcs_ctx *ctx, const char *path)
{
	jcs_policy *pol;
	uint8_t *buf;
	size_t len;

	if (jcs_read_file(ctx, path, REC_MAX_FILE, &buf, &len) == -1)
		return NULL;
	pol = jcs_policy_load_mem(ctx, path, (const char *)buf, len);
	free(buf);
	return pol;
}

jcs_policy *
jcs_policy_load_builtin(jcs_ctx *ctx)
{
	return jcs_policy_load_mem(ctx, jcs_builtin_policy.name,
	    jcs_builtin_policy.text, strlen(jcs_builtin_policy.text));
}

void
jcs_policy_free(jcs_policy *pol)
{
	if (pol == NULL)
		return;
	free(pol->v);
	text_free(&pol->t);
	free(pol);
}

size_t
jcs_policy_count(const jcs_policy *pol)
{
	return pol != NULL ? pol->n : 0;
}

const char *
jcs_policy_importance(const jcs_policy *pol, size_t i)
{
	return pol != NULL && i < pol->n ? pol->v[i].importance : NULL;
}

int
jcs_policy_lookup(jcs_ctx *ctx, const jcs_policy *pol, const char *importance,
    const jcs_requirement **req, size_t *n)
{
	char known[256];
	size_t w = 0;

	if (pol == NULL || importance == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no policy or importance given");
	for (size_t i = 0; i < pol->n; i++)
		if (strcmp(pol->v[i].importance, importance) == 0) {
			*req = pol->v[i].req;
			*n = pol->v[i].n;
			jcs_ok(ctx);
			return 0;
		}
	known[0] = '\0';
	for (size_t i = 0; i < pol->n && w < sizeof(known); i++)
		w += (size_t)snprintf(known + w, sizeof(known) - w, "%s%s",
		    i > 0 ? " " : "", pol->v[i].importance);
	return jcs_fail(ctx, JCS_ERR_NOT_FOUND, "%s defines no importance "
	    "'%s' (known: %s)", pol->t.name, importance, known);
}

/* ---- decisions ------------------------------------------------------- */

/* "JC-STAR (star)3 or higher", or "PSTI compliant" for a scheme's top. */
static const char *
req_text(const jcs_ctx *ctx, const jcs_requirement *r, int min, char *buf,
    size_t len)
{
	const jcs_profile *p = jcs_profile_of(ctx, r->scheme);
	char lv[96];

	jcs_level_text(ctx, r->scheme, min, lv, sizeof(lv));
	snprintf(buf, len, "%s%s", lv, p != NULL && min < p->max_level ?
	    " or higher" : "");
	return buf;
}

static void
add(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

/* Decides one requirement. Returns the jcs_met value and writes why. */
static int
decide_one(const jcs_ctx *ctx, const jcs_recognition *rec,
    const jcs_label_fields *f, time_t at, const jcs_requirement *r, int min,
    const jcs_recognition_line **via, char *why, size_t cap)
{
	char have[96], need[128], d[16];
	int hints = 0;

	*via = NULL;
	why[0] = '\0';
	jcs_level_text(ctx, f->scheme, f->level, have, sizeof(have));
	req_text(ctx, r, min, need, sizeof(need));
	if (f->scheme == r->scheme) {
		if (f->level >= min) {
			add(why, cap, "%s meets %s directly", have, need);
			return JCS_MET_DIRECT;
		}
		add(why, cap, "label is %s; %s is required", have, need);
		return JCS_MET_NO;
	}
	for (size_t i = 0; i < jcs_recognition_count(rec); i++) {
		const jcs_recognition_line *l = &rec->v[i];

		if (l->kind != JCS_RECOGNITION_ACCEPT ||
		    l->scheme != r->scheme || l->level < min ||
		    l->label_scheme != f->scheme ||
		    f->level < l->label_min || f->level > l->label_max ||
		    at < l->from)
			continue;
		*via = l;
		add(why, cap, "%s meets %s through an acceptance, %s:%u: %s",
		    have, need, l->file, l->line, l->basis);
		return JCS_MET_ACCEPTED;
	}
	add(why, cap, "label is %s; %s is required", have, need);
	for (size_t i = 0; i < jcs_recognition_count(rec); i++) {
		const jcs_recognition_line *l = &rec->v[i];

		if (l->scheme != r->scheme || l->label_scheme != f->scheme)
			continue;
		if (l->kind == JCS_RECOGNITION_SIMPLIFIED)
			add(why, cap, "%s%s:%u allows only a simplified "
			    "application on %s labels, not acceptance",
			    hints++ ? "; " : " (", l->file, l->line,
			    jcs_scheme_display(ctx, f->scheme));
		else if (at < l->from)
			add(why, cap, "%sthe acceptance on %s:%u applies "
			    "only from %s", hints++ ? "; " : " (", l->file,
			    l->line, jcs_date_format(l->from, d, sizeof(d)));
		else
			add(why, cap, "%sthe acceptance on %s:%u covers "
			    "levels %d-%d of %s for %s level %d", hints++ ?
			    "; " : " (", l->file, l->line, l->label_min,
			    l->label_max, jcs_scheme_display(ctx, f->scheme),
			    jcs_scheme_display(ctx, r->scheme), l->level);
	}
	if (hints)
		add(why, cap, ")");
	else
		add(why, cap, " (no acceptance line%s%s covers %s labels)",
		    rec != NULL ? " in " : "", rec != NULL ? rec->t.name : "",
		    jcs_scheme_display(ctx, f->scheme));
	return JCS_MET_NO;
}

int
jcs_decide(jcs_ctx *ctx, const jcs_recognition *rec,
    const jcs_label_fields *f, time_t at, const jcs_requirement *req,
    size_t n, jcs_decision *out)
{
	char why[512], when[32], src[300];

	if (f == NULL || req == NULL || n == 0 || out == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no label, requirement or decision given");
	memset(out, 0, sizeof(*out));
	if (at == 0)
		at = time(NULL);
	for (size_t i = 0; i < n; i++) {
		const jcs_profile *p = jcs_profile_of(ctx, req[i].scheme);

		if (p == NULL)
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "no profile for the required scheme %d",
			    req[i].scheme);
		if (req[i].min_level != 0 &&
		    !jcs_profile_level_ok(p, req[i].min_level))
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "level %d is "
			    "not defined for %s (%d to %d)", req[i].min_level,
			    p->display, p->min_level, p->max_level);
	}
	out->req = req[0];
	/* a label that is not current meets nothing, directly or not */
	if (at < f->not_before || at > f->not_after) {
		snprintf(out->reason, sizeof(out->reason), "the label is not "
		    "current (valid %s to %s): it meets no requirement",
		    jcs_time_format(f->not_before, why, sizeof(why)),
		    jcs_time_format(f->not_after, when, sizeof(when)));
		return jcs_fail(ctx, JCS_ERR_BELOW_POLICY, "%s", out->reason);
	}
	for (size_t i = 0; i < n; i++) {
		const jcs_profile *p = jcs_profile_of(ctx, req[i].scheme);
		int min = req[i].min_level != 0 ? req[i].min_level :
		    p->min_level;
		const jcs_recognition_line *via;
		int met;

		met = decide_one(ctx, rec, f, at, &req[i], min, &via, why,
		    sizeof(why));
		src[0] = '\0';
		if (req[i].source != NULL)
			snprintf(src, sizeof(src), " (policy %s:%u)",
			    req[i].source, req[i].line);
		if (met != JCS_MET_NO) {
			out->met = met;
			out->req = req[i];
			out->req.min_level = min;
			out->line = via;
			snprintf(out->reason, sizeof(out->reason), "%.500s%.130s",
			    why, src);
			jcs_ok(ctx);
			return 0;
		}
		if (i == 0)
			snprintf(out->reason, sizeof(out->reason),
			    "%.500s%.130s", why, src);
		else
			add(out->reason, sizeof(out->reason), "; and %s", why);
	}
	out->met = JCS_MET_NO;
	return jcs_fail(ctx, JCS_ERR_BELOW_POLICY, "%s", out->reason);
}

const jcs_recognition_line *
jcs_recognition_simplified(jcs_ctx *ctx, const jcs_recognition *rec,
    int scheme, int level, int basis_scheme, int basis_level, time_t at)
{
	char want[96], have[96], lines[160];
	size_t w = 0, count = 0;

	jcs_level_text(ctx, scheme, level, want, sizeof(want));
	jcs_level_text(ctx, basis_scheme, basis_level, have, sizeof(have));
	lines[0] = '\0';
	for (size_t i = 0; i < jcs_recognition_count(rec); i++) {
		const jcs_recognition_line *l = &rec->v[i];

		if (l->kind != JCS_RECOGNITION_SIMPLIFIED ||
		    l->scheme != scheme)
			continue;
		if (l->level == level && l->label_scheme == basis_scheme &&
		    basis_level >= l->label_min &&
		    basis_level <= l->label_max) {
			if (at >= l->from)
				return l;
			jcs_fail(ctx, JCS_ERR_POLICY_RULE, "%s:%u allows %s "
			    "on the strength of %s only from %s", l->file,
			    l->line, want, have, jcs_date_format(l->from,
			    lines, sizeof(lines)));
			return NULL;
		}
		if (w < sizeof(lines))
			w += (size_t)snprintf(lines + w, sizeof(lines) - w,
			    "%s%u", w > 0 ? ", " : "", l->line);
		count++;
	}
	jcs_fail(ctx, JCS_ERR_POLICY_RULE, "no simplified-application line "
	    "in %s allows %s on the strength of %s%s%s%s",
	    rec != NULL ? rec->t.name : "the recognition file", want, have,
	    count > 1 ? " (lines " : count == 1 ? " (line " : "", lines,
	    count > 1 ? " allow other cases)" : count == 1 ?
	    " allows another case)" : "");
	return NULL;
}

/* ---- the basis of a simplified application ---------------------------- */

#define BASIS_MAX_STATEMENT 4096

void
jcs_basis_free(jcs_basis *b)
{
	if (b == NULL)
		return;
	free(b->content);
	free(b);
}

jcs_basis *
jcs_basis_from_label(jcs_ctx *ctx, const jcs_trust *trust, const uint8_t *buf,
    size_t len, time_t at)
{
	jcs_label *l = NULL;
	jcs_basis *b = NULL;
	jcs_verify_opts vo;
	const jcs_label_fields *f;
	const uint8_t *der;
	size_t derlen;
	const char *signer;
	char lv[96], when[32];

	if (trust == NULL || buf == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "a label basis needs the "
		    "trust bundle of the body that issued it");
		return NULL;
	}
	if (len > JCS_PAYLOAD_MAX) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE, "basis label: %zu bytes (at "
		    "most %d)", len, JCS_PAYLOAD_MAX);
		return NULL;
	}
	/* DER or PEM; else payload text, without its line ending */
	if (len > 0 && (buf[0] == 0x30 || buf[0] == '-'))
		l = jcs_label_parse(ctx, buf, len);
	else {
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r'))
			len--;
		l = jcs_label_from_payload(ctx, (const char *)buf, len);
	}
	if (l == NULL) {
		jcs_fail(ctx, jcs_ctx_error(ctx), "basis label: %s",
		    jcs_ctx_message(ctx));
		return NULL;
	}
	memset(&vo, 0, sizeof(vo));
	vo.at = at;
	if (jcs_verify(ctx, trust, l, &vo, &signer) == -1) {
		jcs_fail(ctx, jcs_ctx_error(ctx), "basis label does not "
		    "verify: %s", jcs_ctx_message(ctx));
		goto err;
	}
	f = jcs_label_get_fields(l);
	der = jcs_label_der(l, &derlen);
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->content = malloc(derlen)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	memcpy(b->content, der, derlen);
	b->len = derlen;
	b->kind = JCS_BASIS_LABEL;
	b->scheme = f->scheme;
	b->level = f->level;
	snprintf(b->serial, sizeof(b->serial), "%s", jcs_label_serial_hex(l));
	snprintf(b->issuer, sizeof(b->issuer), "%s", jcs_label_issuer_hex(l));
	snprintf(b->model, sizeof(b->model), "%s", f->product.model);
	snprintf(b->summary, sizeof(b->summary), "%s label %s (%s, model %s), "
	    "valid until %s, verified: signed by %s",
	    jcs_level_text(ctx, f->scheme, f->level, lv, sizeof(lv)),
	    b->serial, f->product.reg_id, f->product.model,
	    jcs_date_format(f->not_after, when, sizeof(when)), signer);
	jcs_label_free(l);
	jcs_ok(ctx);
	return b;
err:
	jcs_basis_free(b);
	jcs_label_free(l);
	return NULL;
}

jcs_basis *
jcs_basis_from_statement(jcs_ctx *ctx, int scheme, int level,
    const char *text, size_t len)
{
	const jcs_profile *p = jcs_profile_of(ctx, scheme);
	jcs_basis *b;
	size_t bad;
	char lv[96];

	if (p == NULL || !jcs_profile_level_ok(p, level)) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "a statement basis needs a "
		    "scheme and a level it defines");
		return NULL;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' '))
		len--;
	if (len == 0) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the basis statement is "
		    "empty");
		return NULL;
	}
	if (len > BASIS_MAX_STATEMENT) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE, "the basis statement is %zu "
		    "bytes (at most %d)", len, BASIS_MAX_STATEMENT);
		return NULL;
	}
	/* lines of UTF-8 text: tabs and line ends are the only control
	 * characters */
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i < len && text[i] != '\n' && text[i] != '\r' &&
		    text[i] != '\t')
			continue;
		if (jcs_utf8_check(text + start, i - start, &bad) == -1) {
			jcs_fail(ctx, JCS_ERR_INVALID_ARG, "the basis statement "
			    "is not UTF-8 text (byte %zu: a control character "
			    "or a bad sequence)", start + bad + 1);
			return NULL;
		}
		start = i + 1;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->content = malloc(len)) == NULL) {
		jcs_basis_free(b);
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(b->content, text, len);
	b->len = len;
	b->kind = JCS_BASIS_STATEMENT;
	b->scheme = scheme;
	b->level = level;
	snprintf(b->summary, sizeof(b->summary), "%s statement (%zu bytes, "
	    "recorded as given; not verifiable)",
	    jcs_level_text(ctx, scheme, level, lv, sizeof(lv)), len);
	jcs_ok(ctx);
	return b;
}

int
jcs_basis_scheme(const jcs_basis *b)
{
	return b != NULL ? b->scheme : 0;
}

int
jcs_basis_level(const jcs_basis *b)
{
	return b != NULL ? b->level : 0;
}

const char *
jcs_basis_summary(const jcs_basis *b)
{
	return b != NULL ? b->summary : "";
}
