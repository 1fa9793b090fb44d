/*
 * check.c - bulk checks for retailers: every line a scanned payload or the
 * path of a photo; one result per label; labels seen twice in one batch
 * (same serial, or same registration and unit serial) are flagged as
 * possibly copied; a CSV or JSON report.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "internal.h"

#define INPUT_KEEP 120
/* lines checked together with jobs > 1 */
#define BLOCK 512

struct row {
	jcs_check_result pub;
	int has_label;
	char input[INPUT_KEEP + 1];
	char reason[512];
	char reg_id[JCS_MAX_REG_ID + 1];
	char unit[JCS_MAX_UNIT_SERIAL + 1];
	char serial[41];
};

/* A small open-addressing set of strings -> first line seen. */
struct seen {
	char *key;
	unsigned long line;
};

/* The results of one line, before duplicates are looked for. */
struct found {
	struct row *rows;
	size_t n, cap;
	int oom;
};

/* Lines waiting for a block (jobs > 1). */
struct queued {
	char *text;
	size_t len;
	unsigned long line;
	struct found fd;
};

struct jcs_checker {
	const jcs_trust *trust;
	jcs_verify_opts opts;
	struct row *rows;
	size_t n, cap;
	unsigned long lines;
	struct seen *set;
	size_t set_n, set_cap;
	/* jobs > 1: lines queued, checked a block at a time */
	int jobs;
	struct jcs_pool *pool;
	jcs_ctx **wctx;
	struct queued *queue;
	size_t n_queue;
	int list;       /* line 1 was a batch's label list header */
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Returns the line where key was first seen, or records it with line and
 * returns 0; -1 out of memory. */
static long
seen_before(struct jcs_checker *c, const char *key, unsigned long line)
{
	size_t i;

	if (c->set_n * 2 >= c->set_cap) {
		size_t ncap = c->set_cap == 0 ? 256 : c->set_cap * 2;
		struct seen *ns = calloc(ncap, sizeof(*ns));

		if (ns == NULL)
			return -1;
		for (size_t k = 0; k < c->set_cap; k++) {
			if (c->set[k].key == NULL)
				continue;
			i = hash(c->set[k].key) & (ncap - 1);
			while (ns[i].key != NULL)
				i = (i + 1) & (ncap - 1);
			ns[i] = c->set[k];
		}
		free(c->set);
		c->set = ns;
		c->set_cap = ncap;
	}
	i = hash(key) & (c->set_cap - 1);
	while (c->set[i].key != NULL) {
		if (strcmp(c->set[i].key, key) == 0)
			return (long)c->set[i].line;
		i = (i + 1) & (c->set_cap - 1);
	}
	if ((c->set[i].key = jcs_strdup(key)) == NULL)
		return -1;
	c->set[i].line = line;
	c->set_n++;
	return 0;
}

jcs_checker *
jcs_checker_new(jcs_ctx *ctx, const jcs_trust *trust,
    const jcs_verify_opts *opts)
{
	jcs_checker *c;

	if (trust == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no trust bundle given");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	c->trust = trust;
	if (opts != NULL)
		c->opts = *opts;
	jcs_ok(ctx);
	return c;
}

void
jcs_checker_free(jcs_checker *c)
{
	if (c == NULL)
		return;
	jcs_pool_free(c->pool);
	for (int i = 0; c->wctx != NULL && i < c->jobs; i++)
		jcs_ctx_free(c->wctx[i]);
	free(c->wctx);
	for (size_t i = 0; c->queue != NULL && i < c->n_queue; i++) {
		free(c->queue[i].text);
		free(c->queue[i].fd.rows);
	}
	free(c->queue);
	for (size_t i = 0; i < c->set_cap; i++)
		free(c->set[i].key);
	free(c->set);
	free(c->rows);
	free(c);
}

static struct row *
found_add(struct found *fd, const char *line, size_t len, unsigned long lineno,
    int code)
{
	struct row *r;
	size_t keep = len < INPUT_KEEP ? len : INPUT_KEEP;

	if (fd->n == fd->cap) {
		size_t ncap = fd->cap == 0 ? 1 : fd->cap * 2;
		struct row *nr = realloc(fd->rows, ncap * sizeof(*nr));

		if (nr == NULL) {
			fd->oom = 1;
			return NULL;
		}
		fd->rows = nr;
		fd->cap = ncap;
	}
	r = &fd->rows[fd->n++];
	memset(r, 0, sizeof(*r));
	/* keep printable bytes only: the line may be anything */
	for (size_t i = 0; i < keep; i++)
		r->input[i] = isprint((unsigned char)line[i]) ? line[i] : '?';
	r->pub.line = lineno;
	r->pub.code = code;
	return r;
}

/* The verdict on one label (l NULL: it could not be read, the reason is on
 * ctx); takes l. */
static void
found_label(jcs_ctx *ctx, const jcs_checker *c, struct found *fd,
    const char *line, size_t len, unsigned long lineno, int code, jcs_label *l)
{
	struct row *r = found_add(fd, line, len, lineno, code);

	if (r == NULL) {
		jcs_label_free(l);
		return;
	}
	if (l != NULL && jcs_verify(ctx, c->trust, l, &c->opts, NULL) == 0)
		r->pub.verdict = JCS_OK;
	else
		r->pub.verdict = jcs_ctx_error(ctx);
	if (r->pub.verdict != JCS_OK)
		snprintf(r->reason, sizeof(r->reason), "%s",
		    jcs_ctx_message(ctx));
	if (l != NULL) {
		const jcs_label_fields *f = jcs_label_get_fields(l);

		r->has_label = 1;
		r->pub.scheme = f->scheme;
		r->pub.level = f->level;
		snprintf(r->reg_id, sizeof(r->reg_id), "%s",
		    f->product.reg_id);
		snprintf(r->unit, sizeof(r->unit), "%s",
		    f->product.unit_serial != NULL ? f->product.unit_serial :
		    "");
		snprintf(r->serial, sizeof(r->serial), "%s",
		    jcs_label_serial_hex(l));
		jcs_label_free(l);
	}
}

/* Checks one line into fd: reads only c's settings, so any number of
 * threads may examine lines at once, each with its own ctx. */
static void
examine(jcs_ctx *ctx, const jcs_checker *c, const char *line, size_t len,
    unsigned long lineno, struct found *fd)
{
	char path[4096];
	jcs_scan *scan;
	size_t n;

	if ((len >= 5 && strncasecmp(line, "JCS1:", 5) == 0) ||
	    (len >= 7 && strncasecmp(line, "http://", 7) == 0) ||
	    (len >= 8 && strncasecmp(line, "https://", 8) == 0)) {
		found_label(ctx, c, fd, line, len, lineno, 0,
		    jcs_label_from_payload(ctx, line, len));
		return;
	}
	/* an image path */
	if (len == 0 || len >= sizeof(path) || memchr(line, '\0', len)) {
		jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD, "neither a payload nor a "
		    "usable image path");
		found_label(ctx, c, fd, line, len, lineno, 0, NULL);
		return;
	}
	memcpy(path, line, len);
	path[len] = '\0';
	{
		/* a line that names no file and does not look like an image
		 * name is some other text, not a missing photo */
		const char *dot = strrchr(path, '.');
		struct stat st;

		if (stat(path, &st) == -1 && (dot == NULL ||
		    (strcasecmp(dot, ".png") != 0 &&
		    strcasecmp(dot, ".jpg") != 0 &&
		    strcasecmp(dot, ".jpeg") != 0))) {
			jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD, "not a jcstar "
			    "payload, nor the name of an image file");
			found_label(ctx, c, fd, line, len, lineno, 0, NULL);
			return;
		}
	}
	if ((scan = jcs_scan_file(ctx, path)) == NULL ||
	    (n = jcs_scan_count(scan)) == 0) {
		/* unreadable, not an image, no code: the reason is on ctx */
		jcs_scan_free(scan);
		found_label(ctx, c, fd, line, len, lineno, 0, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t tlen;
		const char *text = jcs_scan_text(scan, i, &tlen);

		found_label(ctx, c, fd, line, len, lineno, (int)i + 1,
		    jcs_label_from_payload(ctx, text, tlen));
	}
	jcs_scan_free(scan);
}

/* Appends a line's results in input order and flags the labels seen
 * before: on this thread, so that "first" is always the earlier line.
 * Returns the number of results, or -1. */
static int
append(jcs_ctx *ctx, jcs_checker *c, struct found *fd)
{
	char key[128];
	long first;

	if (fd->oom)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	if (c->n + fd->n > c->cap) {
		size_t ncap = c->cap == 0 ? 64 : c->cap;
		struct row *nr;

		while (ncap < c->n + fd->n)
			ncap *= 2;
		if ((nr = realloc(c->rows, ncap * sizeof(*nr))) == NULL)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		c->rows = nr;
		c->cap = ncap;
	}
	for (size_t i = 0; i < fd->n; i++) {
		struct row *r = &c->rows[c->n];

		*r = fd->rows[i];
		if (r->has_label) {
			/* the same label twice, or two labels for one unit:
			 * one of them is probably a copy */
			snprintf(key, sizeof(key), "s:%s", r->serial);
			if ((first = seen_before(c, key, r->pub.line)) == -1)
				return jcs_fail(ctx, JCS_ERR_NOMEM,
				    "out of memory");
			if (first == 0 && r->unit[0] != '\0') {
				snprintf(key, sizeof(key), "u:%s\n%s",
				    r->reg_id, r->unit);
				if ((first = seen_before(c, key,
				    r->pub.line)) == -1)
					return jcs_fail(ctx, JCS_ERR_NOMEM,
					    "out of memory");
			}
			r->pub.duplicate_of = (unsigned long)first;
		}
		c->n++;
	}
	return (int)fd->n;
}

static void
examine_item(void *arg, size_t i, int worker)
{
	jcs_checker *c = arg;
	struct queued *q = &c->queue[i];

	examine(c->wctx[worker], c, q->text, q->len, q->line, &q->fd);
}

/* Checks the queued lines on the jobs, then appends them in order. */
static int
run_queue(jcs_ctx *ctx, jcs_checker *c)
{
	int added = 0, rc = 0;

	jcs_pool_start(c->pool, examine_item, c, c->n_queue);
	jcs_pool_wait(c->pool);
	for (size_t i = 0; i < c->n_queue; i++) {
		struct queued *q = &c->queue[i];
		int k = rc == 0 ? append(ctx, c, &q->fd) : 0;

		if (k == -1)
			rc = -1;
		else
			added += k;
		free(q->text);
		free(q->fd.rows);
		memset(q, 0, sizeof(*q));
	}
	c->n_queue = 0;
	if (rc == -1)
		return -1;
	jcs_ok(ctx);
	return added;
}

int
jcs_checker_set_jobs(jcs_ctx *ctx, jcs_checker *c, int jobs)
{
	if (c == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no checker given");
	if (jobs < 1 || jobs > jcs_jobs_max())
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "jobs must be 1 to "
		    "%d (4 per processor), not %d", jcs_jobs_max(), jobs);
	if (c->lines > 0 || c->pool != NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "set the jobs of a "
		    "checker once, before its first line");
	if (jobs == 1)
		return 0;
	if ((c->queue = calloc(BLOCK, sizeof(*c->queue))) == NULL ||
	    /* an array of context pointers, one per worker */
	    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	    (c->wctx = calloc((size_t)jobs, sizeof(*c->wctx))) == NULL)
		goto nomem;
	c->jobs = jobs;
	for (int i = 0; i < jobs; i++)
		if ((c->wctx[i] = jcs_ctx_new_like(ctx)) == NULL)
			goto nomem;
	if ((c->pool = jcs_pool_new(ctx, jobs)) == NULL)
		return -1;
	jcs_ok(ctx);
	return 0;
nomem:
	return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
}

int
jcs_checker_flush(jcs_ctx *ctx, jcs_checker *c)
{
	if (c == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no checker given");
	if (c->n_queue == 0) {
		jcs_ok(ctx);
		return 0;
	}
	return run_queue(ctx, c);
}

int
jcs_checker_add(jcs_ctx *ctx, jcs_checker *c, const char *line, size_t len)
{
	struct found fd;
	int rc;

	if (c == NULL || line == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no line given");
	if (c->lines >= JCS_CHECK_MAX_LINES)
		return jcs_fail(ctx, JCS_ERR_TOO_LARGE, "more than %lu lines",
		    JCS_CHECK_MAX_LINES);
	c->lines++;
	/* a label list of jcstar issue --batch --out-list: the header is no
	 * label, and a line's payload is its fourth field */
	if (c->lines == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0 &&
	    len - 3 == strlen(JCS_BATCH_LIST_HEADER) &&
	    memcmp(line + 3, JCS_BATCH_LIST_HEADER, len - 3) == 0) {
		/* the same, saved by a spreadsheet with a byte order mark */
		line += 3;
		len -= 3;
	}
	if (c->lines == 1 && len == strlen(JCS_BATCH_LIST_HEADER) &&
	    memcmp(line, JCS_BATCH_LIST_HEADER, len) == 0) {
		c->list = 1;
		jcs_ok(ctx);
		return 0;
	}
	if (c->list) {
		const char *p = line, *end = line + len;

		for (int commas = 0; commas < 3 && p != NULL; commas++) {
			p = memchr(p, ',', (size_t)(end - p));
			if (p != NULL)
				p++;
		}
		if (p != NULL) {
			len = (size_t)(end - p);
			line = p;
		}
	}
	if (c->pool != NULL) {
		struct queued *q = &c->queue[c->n_queue];

		if ((q->text = malloc(len + 1)) == NULL)
			return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		memcpy(q->text, line, len);
		q->text[len] = '\0';
		q->len = len;
		q->line = c->lines;
		if (++c->n_queue < BLOCK) {
			jcs_ok(ctx);
			return 0;
		}
		return run_queue(ctx, c);
	}
	memset(&fd, 0, sizeof(fd));
	examine(ctx, c, line, len, c->lines, &fd);
	rc = append(ctx, c, &fd);
	free(fd.rows);
	if (rc >= 0)
		jcs_ok(ctx);
	return rc;
}

size_t
jcs_checker_count(const jcs_checker *c)
{
	return c != NULL ? c->n : 0;
}

const jcs_check_result *
jcs_checker_result(const jcs_checker *c, size_t i)
{
	struct row *r;

	if (c == NULL || i >= c->n)
		return NULL;
	r = &c->rows[i];
	/* pointers are set here: rows move when the array grows */
	r->pub.input = r->input;
	r->pub.reason = r->reason;
	r->pub.reg_id = r->reg_id;
	r->pub.unit_serial = r->unit;
	r->pub.serial = r->serial;
	return &r->pub;
}

void
jcs_checker_summary(const jcs_checker *c, size_t *total, size_t *valid,
    size_t *dups)
{
	size_t v = 0, d = 0;

	for (size_t i = 0; c != NULL && i < c->n; i++) {
		if (c->rows[i].pub.duplicate_of != 0)
			d++;
		else if (c->rows[i].pub.verdict == JCS_OK)
			v++;
	}
	if (total != NULL)
		*total = c != NULL ? c->n : 0;
	if (valid != NULL)
		*valid = v;
	if (dups != NULL)
		*dups = d;
}

/* ---- reports ---- */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, ncap);

		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
		    sizeof(tmp) - 1);
}

static void
csv_field(struct buf *b, const char *s)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			put(b, "\"", 1);
		put(b, s, 1);
	}
	if (quote)
		put(b, "\"", 1);
}

static void
json_str(struct buf *b, const char *s)
{
	put(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			put(b, "\\", 1);
			put(b, s, 1);
		} else if (ch < 0x20 || ch == 0x7f) {
			putf(b, "\\u%04x", ch);
		} else {
			put(b, s, 1);
		}
	}
	put(b, "\"", 1);
}

static const char *
verdict_text(const jcs_check_result *r)
{
	if (r->duplicate_of != 0)
		return "duplicate";
	return r->verdict == JCS_OK ? "valid" : jcs_err_name(r->verdict);
}

int
jcs_checker_write_report(jcs_ctx *ctx, const jcs_checker *c,
    const char *path)
{
	struct buf b = { NULL, 0, 0, 0 };
	size_t n = strlen(path != NULL ? path : ""), total, valid, dups;
	int csv = n >= 4 && strcmp(path + n - 4, ".csv") == 0, rc;

	if (c == NULL || path == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no report path");
	if (c->n_queue > 0)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "%zu lines are still "
		    "queued: call jcs_checker_flush first", c->n_queue);
	if (!csv && strcmp(path, "-") != 0 &&
	    (n < 5 || strcmp(path + n - 5, ".json") != 0))
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "report %s: name it "
		    ".csv or .json", path);
	jcs_checker_summary(c, &total, &valid, &dups);
	if (csv) {
		static const char head[] = "line,code,input,verdict,reason,"
		    "scheme,level,reg_id,unit_serial,serial,duplicate_of\n";

		put(&b, head, sizeof(head) - 1);
	}
	else
		put(&b, "{\"rows\":[", 9);
	for (size_t i = 0; i < c->n; i++) {
		const jcs_check_result *r = jcs_checker_result(c, i);
		char reason[600];
		const char *scheme = r->scheme != 0 &&
		    jcs_scheme_name(r->scheme) != NULL ?
		    jcs_scheme_name(r->scheme) : "";

		if (r->duplicate_of != 0)
			snprintf(reason, sizeof(reason), "duplicate: the same "
			    "label as line %lu (possibly a copied label)%s%s",
			    r->duplicate_of, r->verdict != JCS_OK ? "; " : "",
			    r->verdict != JCS_OK ? r->reason : "");
		else
			snprintf(reason, sizeof(reason), "%s", r->reason);
		if (csv) {
			putf(&b, "%lu,%d,", r->line, r->code);
			csv_field(&b, r->input);
			putf(&b, ",%s,", verdict_text(r));
			csv_field(&b, reason);
			putf(&b, ",%s,", scheme);
			if (r->level != 0)
				putf(&b, "%d", r->level);
			put(&b, ",", 1);
			csv_field(&b, r->reg_id);
			put(&b, ",", 1);
			csv_field(&b, r->unit_serial);
			putf(&b, ",%s,", r->serial);
			if (r->duplicate_of != 0)
				putf(&b, "%lu", r->duplicate_of);
			put(&b, "\n", 1);
		} else {
			putf(&b, "%s{\"line\":%lu,\"code\":%d,\"input\":",
			    i > 0 ? "," : "", r->line, r->code);
			json_str(&b, r->input);
			putf(&b, ",\"valid\":%s,\"verdict\":\"%s\",\"reason\":",
			    r->verdict == JCS_OK && r->duplicate_of == 0 ?
			    "true" : "false", verdict_text(r));
			json_str(&b, reason);
			put(&b, ",\"scheme\":", 10);
			json_str(&b, scheme);
			putf(&b, ",\"level\":%d,\"reg_id\":", r->level);
			json_str(&b, r->reg_id);
			put(&b, ",\"unit_serial\":", 15);
			json_str(&b, r->unit_serial);
			put(&b, ",\"serial\":", 10);
			json_str(&b, r->serial);
			putf(&b, ",\"duplicate_of\":%lu}", r->duplicate_of);
		}
	}
	if (!csv)
		putf(&b, "],\"summary\":{\"lines\":%lu,\"labels\":%zu,"
		    "\"valid\":%zu,\"invalid\":%zu,\"duplicates\":%zu}}\n",
		    c->lines, total, valid, total - valid - dups, dups);
	if (b.oom) {
		free(b.p);
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	}
	rc = jcs_write_file_atomic(ctx, path, b.p != NULL ? b.p : "", b.len,
	    0644);
	free(b.p);
	if (rc == 0)
		jcs_ok(ctx);
	return rc;
}
