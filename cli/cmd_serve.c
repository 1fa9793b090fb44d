/* cmd_serve.c - jcstar serve: an HTTP verifier (libmicrohttpd).
 *
 * GET /healthz, POST /api/v1/verify (a JSON array of payload strings, or
 * one payload per line) and, with --web DIR, the static verifier page for
 * every label address. Threads: libmicrohttpd runs one thread per
 * connection (capped); each request uses its own jcs_ctx and holds a
 * counted reference to the current trust bundle and the recognition and
 * policy files read with it, so a SIGHUP reload swaps all three while
 * in-flight requests finish with the old ones. Signals are
 * blocked in every thread and taken synchronously by the main thread with
 * sigwait(): no code runs in signal-handler context at all. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cli.h"

/* libmicrohttpd is opened when serve starts (dlopen), not linked: GnuTLS
 * and the nine libraries they need would otherwise be loaded and relocated
 * by every jcstar command, and GnuTLS sets itself up as it loads. libjcstar
 * loads libzbar the same way (libjcstar/scan.c says what it saves). The
 * pointers have the header's types, so a changed prototype fails to
 * compile. */
#define MHD_SONAME "libmicrohttpd.so.12"
static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_get_connection_values) *get_connection_values;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_create_response_from_buffer)
	    *create_response_from_buffer;
	__typeof__(MHD_create_response_from_fd) *create_response_from_fd;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

/* Sets *fn to the function name of h; 0, or -1 if h has none. */
static int
mhd_sym(void *h, const char *name, void *fn)
{
	void *p = dlsym(h, name);

	if (p == NULL)
		return -1;
	/* POSIX: a data pointer can hold a function's address */
	memcpy(fn, &p, sizeof(p));
	return 0;
}

/* Loads libmicrohttpd (once, for the life of the process); 0, or -1 with
 * the reason on stderr. */
static int
mhd_load(void)
{
	const char *why;
	void *h;

	if (mhd.start_daemon != NULL)
		return 0;
	dlerror();
	if ((h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		fail_usage("serve: cannot load the HTTP server library: %s "
		    "(install the package libmicrohttpd12)", why != NULL ? why :
		    "unknown error");
		return -1;
	}
#define FN(f) (mhd_sym(h, "MHD_" #f, &mhd.f) == 0)
	if (FN(start_daemon) && FN(stop_daemon) && FN(get_connection_info) &&
	    FN(get_connection_values) && FN(lookup_connection_value) &&
	    FN(create_response_from_buffer) && FN(create_response_from_fd) &&
	    FN(add_response_header) && FN(queue_response) &&
	    FN(destroy_response))
		return 0;
#undef FN
	memset(&mhd, 0, sizeof(mhd));
	dlclose(h);
	fail_usage("serve: %s lacks a function jcstar calls", MHD_SONAME);
	return -1;
}

static const char help[] =
"usage: jcstar serve --trust BUNDLE [--listen ADDR:PORT] [--web DIR]\n"
"           [--recognition FILE] [--policy FILE]\n"
"           [--max-body BYTES] [--timeout SECONDS]\n"
"           [--max-connections N] [-q]\n"
"\n"
"Serve an HTTP verifier: the same checks as 'jcstar verify' against a\n"
"trust bundle, for retailers' systems and for phones opening a label's\n"
"address.\n"
"\n"
"  GET  /healthz          {\"status\":\"ok\",\"trust_loaded_at\":...,\n"
"                         \"signers\":N}\n"
"  POST /api/v1/verify    a JSON array of payload strings\n"
"                         (Content-Type: application/json, or any body\n"
"                         starting with '['), or one payload per line;\n"
"                         at most 10000 payloads. Answers\n"
"                         {\"results\":[...],\"summary\":{...}}\n"
"       ?as=SCHEME[&min_level=N]   require a label that satisfies SCHEME\n"
"                         (N or higher; as=SCHEME:N is the same), as\n"
"                         verify --as --min-level; min_level alone means\n"
"                         JC-STAR\n"
"       ?importance=NAME  require what the policy asks for NAME, as\n"
"                         verify --importance\n"
"                         Each result then has a \"decision\" (as verify\n"
"                         --json); one not met is \"below-policy\"\n"
"  GET  /<file>           with --web: the page's files from DIR\n"
"  GET  /.../<digits>     with --web: DIR/index.html (label addresses)\n"
"\n"
"  --trust BUNDLE        the trust bundle (trust export); reloaded on\n"
"                        SIGHUP with the recognition and policy files,\n"
"                        the old ones kept if any new one is bad\n"
"  --listen ADDR:PORT    numeric address to listen on (default\n"
"                        127.0.0.1:8080; IPv6 as [::1]:8080)\n"
"  --web DIR             serve the verifier page from DIR\n"
"  --recognition FILE    the recognition file for ?as and ?importance\n"
"                        (default: recognition.conf of the installed\n"
"                        profiles)\n"
"  --policy FILE         the policy file for ?importance (default:\n"
"                        policy.conf)\n"
"  --max-body BYTES      largest request body (default 4194304)\n"
"  --timeout SECONDS     drop a connection idle this long (default 10)\n"
"  --max-connections N   concurrent connections (default 256)\n"
"  -q, --quiet           no log line per request\n"
"  -h, --help            this help\n"
"\n"
"Errors are answered with a 4xx status and {\"error\":\"...\"} (400 for\n"
"an unknown scheme, level or importance, or importance with as). SIGINT or\n"
"SIGTERM stops the server (exit 0). Exit status 2: usage error, a bad\n"
"bundle, or an address that cannot be listened on.\n";

#define MAX_PAYLOADS 10000
#define DEFAULT_MAX_BODY (4 * 1024 * 1024)
#define MAX_MAX_BODY (256 * 1024 * 1024)
#define DEFAULT_TIMEOUT 10
#define DEFAULT_CONNECTIONS 256
#define MAX_PATH_SEGMENTS 16
#define MAX_URL_LOG 200

/* ---- the trust bundle and the files read with it, by reference -------- */

struct trust_ref {
	jcs_trust *trust;
	jcs_recognition *rec; /* for ?as and ?importance */
	jcs_policy *pol;      /* for ?importance */
	unsigned refs;     /* one for being current, one per request */
	time_t loaded_at;
	size_t signers, roots;
};

static pthread_mutex_t trust_mu = PTHREAD_MUTEX_INITIALIZER;
static struct trust_ref *trust_cur;

/* Returns a counted reference to the current bundle (never NULL while the
 * server runs); give it back with trust_put(). */
static struct trust_ref *
trust_get(void)
{
	struct trust_ref *r;

	pthread_mutex_lock(&trust_mu);
	r = trust_cur;
	r->refs++;
	pthread_mutex_unlock(&trust_mu);
	return r;
}

static void
trust_put(struct trust_ref *r)
{
	int last;

	if (r == NULL)
		return;
	pthread_mutex_lock(&trust_mu);
	last = --r->refs == 0;
	pthread_mutex_unlock(&trust_mu);
	if (last) {
		jcs_trust_free(r->trust);
		jcs_recognition_free(r->rec);
		jcs_policy_free(r->pol);
		free(r);
	}
}

/* Makes r (may be NULL at shutdown) current; the old bundle is freed when
 * its last request is done. */
static void
trust_install(struct trust_ref *r)
{
	struct trust_ref *old;

	pthread_mutex_lock(&trust_mu);
	old = trust_cur;
	trust_cur = r;
	pthread_mutex_unlock(&trust_mu);
	trust_put(old);
}

/* Reads the bundle, recognition and policy files (NULL: the defaults).
 * Returns a new reference (count 1), or NULL with the reason on ctx
 * (JCS_OK: out of memory) and *what naming the option of the bad file. */
static struct trust_ref *
trust_load(jcs_ctx *ctx, const char *path, const char *rec_file,
    const char *pol_file, const char **what)
{
	struct trust_ref *r;
	jcs_trust *t;

	*what = "--trust";
	if ((t = jcs_trust_load_file(ctx, path)) == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		jcs_trust_free(t); /* which left ctx clear: out of memory */
		return NULL;
	}
	r->trust = t;
	r->refs = 1;
	*what = "--recognition";
	if ((r->rec = load_recognition(ctx, rec_file)) == NULL)
		goto err;
	*what = "--policy";
	if ((r->pol = load_policy(ctx, pol_file)) == NULL)
		goto err;
	r->loaded_at = time(NULL);
	r->signers = jcs_trust_signer_count(t);
	r->roots = jcs_trust_root_count(t);
	return r;
err:
	trust_put(r);
	return NULL;
}

/* ---- server settings --------------------------------------------------- */

static struct {
	const char *trust_path;
	const char *rec_file; /* --recognition, or NULL */
	const char *pol_file; /* --policy, or NULL */
	int web_fd;          /* the --web directory, or -1 */
	size_t max_body;
	int quiet;
} srv = { NULL, NULL, NULL, -1, DEFAULT_MAX_BODY, 0 };

/* ---- a growing output buffer ------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len <= n) {
		size_t cap = b->cap != 0 ? b->cap : 4096;
		char *p;

		while (cap - b->len <= n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->oom = 1; /* only short, fixed formats are used */
	else
		buf_add(b, tmp, (size_t)n);
}

/* Returns the length of the valid UTF-8 sequence at s (n bytes left), or
 * 0: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp, min;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends s as a JSON string (NULL: null). Bytes that are not valid UTF-8
 * become U+FFFD, so the answer is always valid JSON. */
static void
buf_json(struct buf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	n = strlen(s);
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t l;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			buf_add(b, e, 2);
			i++;
		} else if (c == '\n') {
			buf_puts(b, "\\n");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			i++;
		} else if ((l = utf8_len(u + i, n - i)) == 0) {
			buf_puts(b, "\\ufffd");
			i++;
		} else {
			buf_add(b, s + i, l);
			i += l;
		}
	}
	buf_add(b, "\"", 1);
}

/* ---- the request body: a JSON array of strings, or lines --------------- */

struct item {
	const char *s;  /* NUL-terminated, inside the body buffer */
	size_t len;
	size_t line;    /* 1-based line of a text body; 0 for JSON */
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits at s; returns the value or -1. */
static long
hex4(const char *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)s[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static size_t
put_utf8(char *w, unsigned long cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xc0 | cp >> 6);
		w[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xe0 | cp >> 12);
		w[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		w[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | cp >> 18);
	w[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	w[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	w[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decodes the JSON string whose opening quote is at body[*pos], in place
 * (a decoded string is never longer than its encoding), and NUL-terminates
 * it. Returns 0 and sets *pos past the closing quote, or -1 with err. */
static int
json_string(char *body, size_t len, size_t *pos, struct item *it, char *err,
    size_t errlen)
{
	size_t start = *pos, r = start + 1, w = r;

	for (;;) {
		unsigned char c;

		if (r >= len) {
			snprintf(err, errlen, "unterminated string starting "
			    "at byte %zu", start);
			return -1;
		}
		c = (unsigned char)body[r];
		if (c == '"')
			break;
		if (c < 0x20) {
			snprintf(err, errlen, "control character 0x%02x in a "
			    "string at byte %zu", c, r);
			return -1;
		}
		if (c >= 0x80) {
			size_t l = utf8_len((unsigned char *)body + r, len - r);

			if (l == 0) {
				snprintf(err, errlen, "invalid UTF-8 at byte "
				    "%zu", r);
				return -1;
			}
			memmove(body + w, body + r, l);
			w += l;
			r += l;
			continue;
		}
		if (c != '\\') {
			body[w++] = (char)c;
			r++;
			continue;
		}
		if (r + 1 >= len) {
			snprintf(err, errlen, "unterminated string starting "
			    "at byte %zu", start);
			return -1;
		}
		switch (body[r + 1]) {
		case '"': body[w++] = '"'; break;
		case '\\': body[w++] = '\\'; break;
		case '/': body[w++] = '/'; break;
		case 'b': body[w++] = '\b'; break;
		case 'f': body[w++] = '\f'; break;
		case 'n': body[w++] = '\n'; break;
		case 'r': body[w++] = '\r'; break;
		case 't': body[w++] = '\t'; break;
		case 'u': {
			long cp, lo;

			if (len - r < 6 || (cp = hex4(body + r + 2)) < 0) {
				snprintf(err, errlen, "bad \\u escape at byte "
				    "%zu", r);
				return -1;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				snprintf(err, errlen, "unpaired low surrogate "
				    "\\u%04lx at byte %zu", cp, r);
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (len - r < 12 || body[r + 6] != '\\' ||
				    body[r + 7] != 'u' ||
				    (lo = hex4(body + r + 8)) < 0xdc00 ||
				    lo > 0xdfff) {
					snprintf(err, errlen, "unpaired high "
					    "surrogate \\u%04lx at byte %zu",
					    cp, r);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				r += 6;
			}
			w += put_utf8(body + w, (unsigned long)cp);
			r += 6;
			continue;
		}
		default:
			snprintf(err, errlen, "bad escape '\\%c' at byte %zu",
			    body[r + 1] >= 0x20 && body[r + 1] < 0x7f ?
			    body[r + 1] : '?', r);
			return -1;
		}
		r += 2;
	}
	/* w <= r: the closing quote's byte is free for the terminator */
	body[w] = '\0';
	it->s = body + start + 1;
	it->len = w - (start + 1);
	it->line = 0;
	*pos = r + 1;
	return 0;
}

enum { PARSE_OK = 0, PARSE_BAD = -1, PARSE_TOO_MANY = -2 };

/* Parses body as exactly one JSON array of strings (white space around
 * tokens allowed, nothing after the array). Returns PARSE_OK with *count
 * items, PARSE_BAD with err naming the byte, or PARSE_TOO_MANY. */
static int
parse_json(char *body, size_t len, struct item *items, size_t max,
    size_t *count, char *err, size_t errlen)
{
	size_t pos = 0, n = 0;

	while (pos < len && is_ws(body[pos]))
		pos++;
	if (pos >= len || body[pos] != '[') {
		snprintf(err, errlen, "expected '[' at byte %zu", pos);
		return PARSE_BAD;
	}
	pos++;
	while (pos < len && is_ws(body[pos]))
		pos++;
	if (pos < len && body[pos] == ']') {
		pos++;
		goto end;
	}
	for (;;) {
		while (pos < len && is_ws(body[pos]))
			pos++;
		if (pos >= len) {
			snprintf(err, errlen, "unexpected end of input at "
			    "byte %zu", pos);
			return PARSE_BAD;
		}
		if (body[pos] != '"') {
			snprintf(err, errlen, "expected a string at byte %zu",
			    pos);
			return PARSE_BAD;
		}
		if (n == max)
			return PARSE_TOO_MANY;
		if (json_string(body, len, &pos, &items[n], err, errlen) == -1)
			return PARSE_BAD;
		n++;
		while (pos < len && is_ws(body[pos]))
			pos++;
		if (pos < len && body[pos] == ',') {
			pos++;
			continue;
		}
		if (pos < len && body[pos] == ']') {
			pos++;
			break;
		}
		snprintf(err, errlen, "expected ',' or ']' at byte %zu", pos);
		return PARSE_BAD;
	}
end:
	while (pos < len && is_ws(body[pos]))
		pos++;
	if (pos != len) {
		snprintf(err, errlen, "unexpected data after the array at "
		    "byte %zu", pos);
		return PARSE_BAD;
	}
	*count = n;
	return PARSE_OK;
}

/* One payload per line; "\n" or "\r\n" ends a line, empty lines are
 * skipped, nothing else is trimmed (a space is a Base45 digit). body[len]
 * must be '\0'. */
static int
parse_lines(char *body, size_t len, struct item *items, size_t max,
    size_t *count)
{
	size_t n = 0, line = 0;
	char *p = body, *end = body + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl != NULL ? nl : end;

		line++;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			*--e = '\0';
		if (e > p) {
			if (n == max)
				return PARSE_TOO_MANY;
			items[n].s = p;
			items[n].len = (size_t)(e - p);
			items[n].line = line;
			n++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	*count = n;
	return PARSE_OK;
}

/* ---- the requirement of a request (?as, ?min_level, ?importance) -------- */

/* What a request requires, as jcstar verify --as/--min-level/--importance.
 * n == 0: nothing (plain verification). */
struct want {
	jcs_requirement one;          /* for ?as */
	const jcs_requirement *req;   /* &one, or a policy row (tr->pol) */
	size_t n;
};

struct query {
	const char *as, *min_level, *importance;
	char err[200];
};

static enum MHD_Result
on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct query *q = cls;
	const char **slot;

	(void)kind;
	if (strcmp(key, "as") == 0)
		slot = &q->as;
	else if (strcmp(key, "min_level") == 0)
		slot = &q->min_level;
	else if (strcmp(key, "importance") == 0)
		slot = &q->importance;
	else {
		snprintf(q->err, sizeof(q->err), "unknown query parameter "
		    "'%.40s' (known: as, min_level, importance)", key);
		return MHD_NO;
	}
	if (*slot != NULL) {
		snprintf(q->err, sizeof(q->err), "query parameter '%s' is "
		    "given twice", key);
		return MHD_NO;
	}
	if (value == NULL || *value == '\0') {
		snprintf(q->err, sizeof(q->err), "query parameter '%s' needs a "
		    "value", key);
		return MHD_NO;
	}
	*slot = value;
	return MHD_YES;
}

/* Reads the request's requirement into w, with the same rules and
 * messages as jcstar verify's options. Returns 0, or -1 with err set (a
 * 400 answer). */
static int
want_parse(jcs_ctx *ctx, const struct trust_ref *tr, struct MHD_Connection *c,
    struct want *w, char *err, size_t errlen)
{
	struct query q;

	memset(&q, 0, sizeof(q));
	memset(w, 0, sizeof(*w));
	mhd.get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_query_arg, &q);
	if (q.err[0] != '\0') {
		snprintf(err, errlen, "%s", q.err);
		return -1;
	}
	if (q.importance != NULL && (q.as != NULL || q.min_level != NULL)) {
		snprintf(err, errlen, "importance takes its requirement from "
		    "the policy: do not add as or min_level");
		return -1;
	}
	if (q.importance != NULL) {
		if (jcs_policy_lookup(ctx, tr->pol, q.importance, &w->req,
		    &w->n) == -1) {
			snprintf(err, errlen, "importance: %s",
			    jcs_ctx_message(ctx));
			return -1;
		}
		return 0;
	}
	if (q.as == NULL && q.min_level == NULL)
		return 0;
	/* as=SCHEME or as=SCHEME:N (the page's short form) */
	if (jcs_requirement_parse(ctx, q.as, "as", q.min_level, "min_level",
	    &w->one) == -1) {
		snprintf(err, errlen, "%s", jcs_ctx_message(ctx));
		return -1;
	}
	w->req = &w->one;
	w->n = 1;
	return 0;
}

/* ---- verification ------------------------------------------------------ */

/* Appends a decision as verify --json prints it (json_decision). */
static void
buf_decision(struct buf *b, const jcs_decision *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem;

	if ((mem = open_memstream(&text, &len)) == NULL) {
		b->oom = 1;
		return;
	}
	json_decision(mem, d);
	if (fclose(mem) != 0)
		b->oom = 1;
	else
		buf_add(b, text, len);
	free(text);
}

static void
result_json(struct buf *b, jcs_ctx *ctx, const struct trust_ref *tr,
    const jcs_verify_opts *vo, const struct item *it, size_t index)
{
	const jcs_decision *d = NULL;
	const char *signer = NULL;
	jcs_label *l;
	int ok = 0;
	char t[32];

	l = jcs_label_from_payload(ctx, it->s, it->len);
	if (l != NULL) {
		ok = jcs_verify(ctx, tr->trust, l, vo, &signer) == 0;
		/* only right after jcs_verify: a label that could not be read
		 * must not show the decision on the one before it */
		d = jcs_ctx_decision(ctx);
	}
	buf_printf(b, "{\"index\":%zu,", index);
	if (it->line != 0)
		buf_printf(b, "\"line\":%zu,", it->line);
	buf_printf(b, "\"valid\":%s,\"verdict\":", ok ? "true" : "false");
	buf_json(b, ok ? "valid" : jcs_err_name(jcs_ctx_error(ctx)));
	buf_puts(b, ",\"reason\":");
	buf_json(b, ok ? NULL : jcs_ctx_message(ctx));
	if (l != NULL) {
		/* what the label claims, also when it is not valid (as
		 * verify --json prints it) */
		const jcs_label_fields *f = jcs_label_get_fields(l);

		buf_puts(b, ",\"scheme\":");
		buf_json(b, jcs_scheme_name(f->scheme));
		buf_printf(b, ",\"level\":%d,\"reg_id\":", f->level);
		buf_json(b, f->product.reg_id);
		buf_puts(b, ",\"unit_serial\":");
		buf_json(b, f->product.unit_serial);
		buf_puts(b, ",\"serial\":");
		buf_json(b, jcs_label_serial_hex(l));
		buf_puts(b, ",\"not_after\":");
		buf_json(b, jcs_time_format(f->not_after, t, sizeof(t)));
	} else {
		buf_puts(b, ",\"scheme\":null,\"level\":null,\"reg_id\":null,"
		    "\"unit_serial\":null,\"serial\":null,\"not_after\":null");
	}
	buf_puts(b, ",\"signer\":");
	buf_json(b, ok ? signer : NULL);
	if (d != NULL) {
		buf_puts(b, ",\"decision\":");
		buf_decision(b, d);
	}
	buf_puts(b, "}");
	jcs_label_free(l);
}

/* Verifies every item into a {"results":[...],"summary":{...}} document.
 * Returns 0, or -1 when out of memory. */
static int
verify_items(struct buf *b, jcs_ctx *ctx, const struct trust_ref *tr,
    const struct want *w, const struct item *items, size_t n,
    size_t *n_valid)
{
	jcs_verify_opts vo;
	size_t valid = 0;

	memset(&vo, 0, sizeof(vo));
	if (w->n > 0) {
		vo.require = w->req;
		vo.n_require = w->n;
		vo.recognition = tr->rec;
	}
	buf_puts(b, "{\"results\":[");
	for (size_t i = 0; i < n && !b->oom; i++) {
		if (i > 0)
			buf_puts(b, ",");
		result_json(b, ctx, tr, &vo, &items[i], i);
		if (jcs_ctx_error(ctx) == JCS_OK)
			valid++;
	}
	buf_printf(b, "],\"summary\":{\"total\":%zu,\"valid\":%zu,"
	    "\"invalid\":%zu}}\n", n, valid, n - valid);
	*n_valid = valid;
	return b->oom ? -1 : 0;
}

/* ---- HTTP -------------------------------------------------------------- */

/* State of one request, from its first call to its completion. */
struct req {
	struct timespec start;
	char *body;        /* max_body + 1 bytes at most, NUL-terminated */
	size_t len, cap;
	int too_large;     /* the body went over --max-body */
	size_t dropped;    /* bytes of body not kept */
	int started;       /* the body phase began */
};

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* One log line per request on stderr (unless -q); stdio locks the stream
 * for the one fprintf, so lines of concurrent requests do not mix. */
static void
log_request(struct MHD_Connection *c, const char *method, const char *url,
    unsigned status, size_t size, const struct timespec *start,
    const char *note)
{
	const union MHD_ConnectionInfo *ci;
	char addr[INET6_ADDRSTRLEN] = "-", safe[MAX_URL_LOG + 4], t[32];
	size_t i, j;

	if (srv.quiet)
		return;
	ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
			    &((const struct sockaddr_in *)(const void *)sa)->
			    sin_addr, addr, sizeof(addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((const struct sockaddr_in6 *)(const void *)sa)->
			    sin6_addr, addr, sizeof(addr));
	}
	/* the URL is the client's: no control characters in our log */
	for (i = j = 0; url[i] != '\0' && j < MAX_URL_LOG; i++)
		safe[j++] = (unsigned char)url[i] < 0x20 ||
		    (unsigned char)url[i] == 0x7f ? '?' : url[i];
	if (url[i] != '\0') {
		memcpy(safe + j, "...", 3);
		j += 3;
	}
	safe[j] = '\0';
	fprintf(stderr, "%s serve: %s %s \"%s %s\" %u %zu %ldms%s%s\n",
	    progname, jcs_time_format(time(NULL), t, sizeof(t)), addr,
	    method, safe, status, size, ms_since(start), note[0] ? " " : "",
	    note);
}

/* Queues a response (taking body, a malloc'd buffer, or NULL) and logs. */
static enum MHD_Result
reply(struct MHD_Connection *c, const char *method, const char *url,
    const struct timespec *start, unsigned status, const char *ctype,
    char *body, size_t len, const char *allow, const char *note)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	mhd.add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	mhd.add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (allow != NULL)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = mhd.queue_response(c, status, r);
	mhd.destroy_response(r);
	log_request(c, method, url, status, len, start, note);
	return ret;
}

/* {"error":"msg"} with the given status. */
static enum MHD_Result
reply_error(struct MHD_Connection *c, const char *method, const char *url,
    const struct timespec *start, unsigned status, const char *msg,
    const char *allow)
{
	struct buf b = { NULL, 0, 0, 0 };

	buf_puts(&b, "{\"error\":");
	buf_json(&b, msg);
	buf_printf(&b, ",\"status\":%u}\n", status);
	if (b.oom) {
		free(b.p);
		return MHD_NO;
	}
	return reply(c, method, url, start, status, "application/json", b.p,
	    b.len, allow, "");
}

static enum MHD_Result
serve_healthz(struct MHD_Connection *c, const char *method, const char *url,
    const struct timespec *start)
{
	struct trust_ref *tr = trust_get();
	struct buf b = { NULL, 0, 0, 0 };
	char t[32];

	buf_puts(&b, "{\"status\":\"ok\",\"trust_loaded_at\":");
	buf_json(&b, jcs_time_format(tr->loaded_at, t, sizeof(t)));
	buf_printf(&b, ",\"signers\":%zu,\"roots\":%zu,\"version\":\"%s\"}\n",
	    tr->signers, tr->roots, jcs_version());
	trust_put(tr);
	if (b.oom) {
		free(b.p);
		return MHD_NO;
	}
	return reply(c, method, url, start, 200, "application/json", b.p,
	    b.len, NULL, "");
}

/* The whole body is in, the requirement read: parse the body, verify,
 * answer. */
static enum MHD_Result
verify_body(struct MHD_Connection *c, const char *method, const char *url,
    struct req *rq, jcs_ctx *ctx, const struct trust_ref *tr,
    const struct want *w)
{
	const char *ct = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	struct buf b = { NULL, 0, 0, 0 };
	struct item *items;
	size_t n = 0, valid = 0, first = 0;
	char err[160], msg[200], note[64];
	int json, rc;

	if (rq->body == NULL || rq->len == 0)
		return reply_error(c, method, url, &rq->start, 400,
		    "empty body: send a JSON array of payload strings or one "
		    "payload per line", NULL);
	while (first < rq->len && is_ws(rq->body[first]))
		first++;
	json = (ct != NULL && strncasecmp(ct, "application/json", 16) == 0) ||
	    (first < rq->len && rq->body[first] == '[');
	if ((items = calloc(MAX_PAYLOADS, sizeof(*items))) == NULL)
		return MHD_NO;
	err[0] = '\0';
	rc = json ? parse_json(rq->body, rq->len, items, MAX_PAYLOADS, &n, err,
	    sizeof(err)) : parse_lines(rq->body, rq->len, items, MAX_PAYLOADS,
	    &n);
	if (rc == PARSE_BAD) {
		free(items);
		snprintf(msg, sizeof(msg), "malformed JSON: %s", err);
		return reply_error(c, method, url, &rq->start, 400, msg, NULL);
	}
	if (rc == PARSE_TOO_MANY) {
		free(items);
		snprintf(msg, sizeof(msg), "too many payloads: at most %d per "
		    "request", MAX_PAYLOADS);
		return reply_error(c, method, url, &rq->start, 413, msg, NULL);
	}
	if (verify_items(&b, ctx, tr, w, items, n, &valid) == -1) {
		free(items);
		free(b.p);
		return reply_error(c, method, url, &rq->start, 500,
		    "out of memory", NULL);
	}
	free(items);
	snprintf(note, sizeof(note), "payloads=%zu valid=%zu", n, valid);
	return reply(c, method, url, &rq->start, 200, "application/json", b.p,
	    b.len, NULL, note);
}

/* A POST /api/v1/verify with its whole body: read the requirement
 * (400 if bad), then verify_body(). */
static enum MHD_Result
serve_verify(struct MHD_Connection *c, const char *method, const char *url,
    struct req *rq)
{
	struct trust_ref *tr;
	struct want w;
	jcs_ctx *ctx;
	char err[300];
	enum MHD_Result ret;

	if ((ctx = cli_ctx_new()) == NULL)
		return MHD_NO;
	/* one set of files for the whole request, whatever SIGHUP does */
	tr = trust_get();
	if (want_parse(ctx, tr, c, &w, err, sizeof(err)) == -1)
		ret = reply_error(c, method, url, &rq->start, 400, err, NULL);
	else
		ret = verify_body(c, method, url, rq, ctx, tr, &w);
	trust_put(tr);
	jcs_ctx_free(ctx);
	return ret;
}

/* Appends upload data to the request body, up to --max-body. */
static void
body_append(struct req *rq, const char *data, size_t size)
{
	if (rq->too_large)
		return;
	if (size > srv.max_body - rq->len) {
		rq->too_large = 1;
		return;
	}
	if (rq->cap - rq->len <= size) {
		size_t cap = rq->cap != 0 ? rq->cap : 16384;
		char *p;

		while (cap - rq->len <= size)
			cap *= 2;
		if (cap > srv.max_body + 1)
			cap = srv.max_body + 1;
		if ((p = realloc(rq->body, cap)) == NULL) {
			rq->too_large = 1; /* answered as 413 as well */
			return;
		}
		rq->body = p;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, size);
	rq->len += size;
	rq->body[rq->len] = '\0';
}

/* ---- static files (--web) ---------------------------------------------- */

static const struct {
	const char *ext, *type;
} mime_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".htm", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".webmanifest", "application/manifest+json" },
	{ ".pem", "application/x-pem-file" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".ico", "image/x-icon" },
	{ ".webp", "image/webp" },
	{ ".woff2", "font/woff2" },
	{ ".wasm", "application/wasm" },
	{ ".map", "application/json" },
};

static const char *
mime_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL)
		for (size_t i = 0; i < sizeof(mime_types) /
		    sizeof(mime_types[0]); i++)
			if (strcasecmp(dot, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

/* Files a client must revalidate every time: the page itself, its service
 * worker, and its trust data (a new CRL must reach phones) and scheme data
 * (a new recognition line). Everything else may be cached for an hour. */
static const char *
cache_control(const char *name)
{
	const char *base = strrchr(name, '/');
	const char *dot = strrchr(name, '.');

	base = base != NULL ? base + 1 : name;
	if (strcmp(base, "sw.js") == 0 || strcmp(base, "trust.pem") == 0 ||
	    strcmp(base, "config.json") == 0 ||
	    strcmp(base, "schemes.json") == 0 ||
	    (dot != NULL && (strcmp(dot, ".html") == 0 ||
	    strcmp(dot, ".pem") == 0 || strcmp(dot, ".webmanifest") == 0)))
		return "no-cache";
	return "public, max-age=3600";
}

/* Returns 1 if rel ("a/b.js", no leading '/') is a path we may serve:
 * 1 to MAX_PATH_SEGMENTS segments of [A-Za-z0-9._-], none empty, none
 * starting with '.' (so no "..", no hidden files), no trailing '/'. */
static int
path_ok(const char *rel)
{
	size_t segs = 0, seglen = 0;

	if (*rel == '\0' || strlen(rel) > 1024)
		return 0;
	for (const char *p = rel;; p++) {
		char c = *p;

		if (c == '/' || c == '\0') {
			if (seglen == 0 || ++segs > MAX_PATH_SEGMENTS)
				return 0;
			if (c == '\0')
				return 1;
			seglen = 0;
			continue;
		}
		if (seglen == 0 && c == '.')
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return 0;
		seglen++;
	}
}

/* Returns 1 if the last segment of url is all digits: a label address
 * (HTTPS://HOST/L/<digits>). */
static int
is_label_address(const char *url)
{
	const char *last = strrchr(url, '/');

	last = last != NULL ? last + 1 : url;
	if (*last == '\0')
		return 0;
	for (; *last != '\0'; last++)
		if (*last < '0' || *last > '9')
			return 0;
	return 1;
}

/* Opens rel (checked by path_ok) under the --web directory, walking one
 * segment at a time with O_NOFOLLOW: no symbolic link is followed, so
 * nothing outside DIR can be reached. Returns an fd of a regular file and
 * sets *size, or -1. */
static int
web_open(const char *rel, size_t *size)
{
	char seg[1025];
	int dfd = srv.web_fd, fd = -1;
	const char *p = rel;
	struct stat st;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		int next;

		memcpy(seg, p, n);
		seg[n] = '\0';
		if (slash == NULL) {
			fd = openat(dfd, seg, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
			break;
		}
		next = openat(dfd, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (dfd != srv.web_fd)
			close(dfd);
		if (next == -1)
			return -1;
		dfd = next;
		p = slash + 1;
	}
	if (dfd != srv.web_fd)
		close(dfd);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uintmax_t)st.st_size > SIZE_MAX) {
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	return fd;
}

static enum MHD_Result
serve_file(struct MHD_Connection *c, const char *method, const char *url,
    const struct timespec *start)
{
	const char *rel = url + 1, *name;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t size;
	int fd;

	/* "/" and a base path ending in "/" (e.g. "/L/") are the page */
	if (*rel == '\0' || rel[strlen(rel) - 1] == '/')
		rel = "index.html";
	if (!path_ok(rel))
		return reply_error(c, method, url, start, 400,
		    "bad path: only plain file names under the web "
		    "directory are served", NULL);
	name = rel;
	if ((fd = web_open(rel, &size)) == -1 && is_label_address(url)) {
		name = "index.html";
		fd = web_open(name, &size);
	} else if (fd == -1 && strchr(rel, '/') != NULL) {
		/* the page under a base path (/L/<digits>) loads its files
		 * relative to it (/L/app.js): serve the page's own files
		 * from the top of the web directory */
		const char *base = strrchr(rel, '/') + 1;

		if (*base != '\0' && path_ok(base)) {
			name = base;
			fd = web_open(base, &size);
		}
	}
	if (fd == -1)
		return reply_error(c, method, url, start, 404, "not found",
		    NULL);
	if ((r = mhd.create_response_from_fd(size, fd)) == NULL) {
		close(fd);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    mime_type(name));
	mhd.add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    cache_control(name));
	mhd.add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* the label's digits are in the path: do not send them onwards */
	mhd.add_response_header(r, "Referrer-Policy", "no-referrer");
	ret = mhd.queue_response(c, MHD_HTTP_OK, r);
	mhd.destroy_response(r);
	log_request(c, method, url, 200, size, start, "");
	return ret;
}

static int
is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct req *rq = *con_cls;
	struct timespec start;

	(void)cls;
	(void)version;
	if (rq != NULL && rq->started) {
		/* the body of POST /api/v1/verify, in pieces, then a final
		 * call with no data */
		if (*upload_data_size != 0) {
			body_append(rq, upload_data, *upload_data_size);
			if (rq->too_large)
				rq->dropped += *upload_data_size;
			*upload_data_size = 0;
			/* libmicrohttpd cannot answer before the body is
			 * read: an over-long body of unknown length (chunked)
			 * is read and dropped, then answered 413; one that
			 * goes on past twice the cap closes the connection */
			if (rq->dropped > srv.max_body) {
				log_request(c, method, url, 413, 0,
				    &rq->start, "body too large, connection "
				    "closed");
				return MHD_NO;
			}
			return MHD_YES;
		}
		if (rq->too_large)
			return reply_error(c, method, url, &rq->start, 413,
			    "request body too large", NULL);
		return serve_verify(c, method, url, rq);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (strcmp(url, "/api/v1/verify") == 0) {
		const char *cl;

		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return reply_error(c, method, url, &start, 405,
			    "method not allowed: use POST", "POST");
		cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(cl, &end, 10);
			if (errno != 0 || end == cl || v > srv.max_body) {
				char msg[96];

				snprintf(msg, sizeof(msg), "request body too "
				    "large: at most %zu bytes", srv.max_body);
				/* before reading the body: MHD closes the
				 * connection after this answer */
				return reply_error(c, method, url, &start, 413,
				    msg, NULL);
			}
		}
		if (rq == NULL) {
			if ((rq = calloc(1, sizeof(*rq))) == NULL)
				return MHD_NO;
			*con_cls = rq;
		}
		rq->start = start;
		rq->started = 1;
		return MHD_YES;
	}
	if (strcmp(url, "/healthz") == 0) {
		if (!is_get(method))
			return reply_error(c, method, url, &start, 405,
			    "method not allowed: use GET", "GET, HEAD");
		return serve_healthz(c, method, url, &start);
	}
	if (srv.web_fd != -1 && url[0] == '/' &&
	    strncmp(url, "/api/", 5) != 0) {
		if (!is_get(method))
			return reply_error(c, method, url, &start, 405,
			    "method not allowed: use GET", "GET, HEAD");
		return serve_file(c, method, url, &start);
	}
	return reply_error(c, method, url, &start, 404, "not found", NULL);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* Decodes %XX in the URL in place, except %00: a NUL would cut the path
 * short, so it is kept as text (and then refused by path_ok). */
static size_t
on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;

	(void)cls;
	(void)c;
	while (*r != '\0') {
		int h, l;

		if (r[0] == '%' && (h = hexval((unsigned char)r[1])) >= 0 &&
		    (l = hexval((unsigned char)r[2])) >= 0 && (h | l) != 0) {
			*w++ = (char)(h << 4 | l);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	fprintf(stderr, "%s serve: httpd: %s\n", progname, msg);
}

/* ---- listening ---------------------------------------------------------- */

/* Opens a listening socket on "A.B.C.D:PORT" or "[V6]:PORT" (numeric
 * only). Returns the socket, or -1 after printing why. */
static int
listen_on(const char *spec)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port, *colon;
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, e, flags;
	size_t hl;

	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		hl = (size_t)(rb - spec - 1);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, hl);
		port = rb + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    strchr(spec, ':') != colon)
			goto bad;
		hl = (size_t)(colon - spec);
		if (hl == 0 || hl >= sizeof(host))
			goto bad;
		memcpy(host, spec, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	{
		int p;

		if (parse_int(port, 0, 65535, &p) == -1)
			goto bad;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((e = getaddrinfo(host, port, &hints, &ai)) == EAI_NONAME)
		goto bad; /* not a numeric address */
	if (e != 0) {
		fail_usage("serve: --listen %s: %s", spec, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1)
		goto sys;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 128) == -1)
		goto sys;
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto sys;
	freeaddrinfo(ai);
	return fd;
sys:
	e = errno;
	fail_usage("serve: cannot listen on %s: %s", spec, strerror(e));
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return -1;
bad:
	fail_usage("serve: --listen wants ADDR:PORT with a numeric address, "
	    "e.g. 127.0.0.1:8080 or [::1]:8080, not '%s'", spec);
	return -1;
}

/* Loads the bundle, recognition and policy files again; if one fails,
 * the old ones all stay. */
static void
reload(jcs_ctx *ctx)
{
	const char *what;
	struct trust_ref *r = trust_load(ctx, srv.trust_path, srv.rec_file,
	    srv.pol_file, &what);
	char t[32];

	if (r == NULL) {
		struct trust_ref *old = trust_get();

		fprintf(stderr, "%s serve: reload failed, still serving "
		    "the files loaded at %s: %s: %s\n", progname,
		    jcs_time_format(old->loaded_at, t, sizeof(t)), what,
		    jcs_ctx_error(ctx) != JCS_OK ? jcs_ctx_message(ctx) :
		    "out of memory");
		trust_put(old);
		return;
	}
	if (!srv.quiet)
		fprintf(stderr, "%s serve: reloaded %s: %zu roots, %zu "
		    "signers; %zu recognition lines, %zu importances\n",
		    progname, srv.trust_path, r->roots, r->signers,
		    jcs_recognition_count(r->rec), jcs_policy_count(r->pol));
	trust_install(r);
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "listen", required_argument, NULL, 'l' },
		{ "web", required_argument, NULL, 'w' },
		{ "recognition", required_argument, NULL, 'G' },
		{ "policy", required_argument, NULL, 'P' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_spec = "127.0.0.1:8080", *web = NULL;
	const char *what;
	struct MHD_Daemon *d = NULL;
	struct trust_ref *first;
	sigset_t sigs;
	jcs_ctx *ctx;
	int c, rc = EXIT_USAGE, lfd = -1, timeout = DEFAULT_TIMEOUT;
	int conns = DEFAULT_CONNECTIONS, mb;

	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			srv.trust_path = optarg;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'w':
			web = optarg;
			break;
		case 'G':
			srv.rec_file = optarg;
			break;
		case 'P':
			srv.pol_file = optarg;
			break;
		case 'b':
			if (parse_int(optarg, 1, MAX_MAX_BODY, &mb) == -1) {
				rc = fail_usage("serve: --max-body must be "
				    "1 to %d bytes, not '%s'", MAX_MAX_BODY,
				    optarg);
				goto done;
			}
			srv.max_body = (size_t)mb;
			break;
		case 'T':
			if (parse_int(optarg, 1, 3600, &timeout) == -1) {
				rc = fail_usage("serve: --timeout must be 1 "
				    "to 3600 seconds, not '%s'", optarg);
				goto done;
			}
			break;
		case 'C':
			if (parse_int(optarg, 1, 10000, &conns) == -1) {
				rc = fail_usage("serve: --max-connections "
				    "must be 1 to 10000, not '%s'", optarg);
				goto done;
			}
			break;
		case 'q':
			srv.quiet = 1;
			break;
		case 'h':
			rc = print_help(help);
			goto done;
		default:
			rc = usage_error(help);
			goto done;
		}
	}
	if (optind < argc) {
		rc = fail_usage("serve: unexpected argument '%s'",
		    argv[optind]);
		goto done;
	}
	if (srv.trust_path == NULL) {
		rc = fail_usage("serve: --trust BUNDLE is required");
		goto done;
	}
	if (mhd_load() == -1) {
		rc = EXIT_USAGE;
		goto done;
	}
	if ((first = trust_load(ctx, srv.trust_path, srv.rec_file,
	    srv.pol_file, &what)) == NULL) {
		if (jcs_ctx_error(ctx) == JCS_OK)
			fail_usage("out of memory");
		else
			fail_ctx(ctx, what);
		rc = EXIT_USAGE; /* a bad bundle is not a verdict */
		goto done;
	}
	trust_install(first);
	if (web != NULL && (srv.web_fd = open(web, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		rc = fail_usage("serve: --web %s: %s", web, strerror(errno));
		goto done;
	}
	/* Block the signals in this thread before libmicrohttpd starts its
	 * threads, so that they inherit the mask and only sigwait() below
	 * ever takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	/* an ignored signal is discarded, never pending for sigwait():
	 * a shell starts background jobs with SIGINT ignored, nohup
	 * ignores SIGHUP; blocked, the default action never runs */
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = listen_on(listen_spec)) == -1)
		goto done;
	d = mhd.start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, /* first */
	    MHD_OPTION_LISTEN_SOCKET, lfd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, NULL,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (d == NULL) {
		close(lfd);
		rc = fail_usage("serve: cannot start the HTTP server on %s",
		    listen_spec);
		goto done;
	}
	if (!srv.quiet) {
		/* the port the kernel chose for ":0" */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char a[INET6_ADDRSTRLEN], where[INET6_ADDRSTRLEN + 16];

		snprintf(where, sizeof(where), "%s", listen_spec);
		if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
			const struct sockaddr_in *s4 = (const void *)&ss;
			const struct sockaddr_in6 *s6 = (const void *)&ss;

			if (ss.ss_family == AF_INET && inet_ntop(AF_INET,
			    &s4->sin_addr, a, sizeof(a)) != NULL)
				snprintf(where, sizeof(where), "%s:%u", a,
				    (unsigned)ntohs(s4->sin_port));
			else if (ss.ss_family == AF_INET6 && inet_ntop(
			    AF_INET6, &s6->sin6_addr, a, sizeof(a)) != NULL)
				snprintf(where, sizeof(where), "[%s]:%u", a,
				    (unsigned)ntohs(s6->sin6_port));
		}
		fprintf(stderr, "%s serve: listening on http://%s (trust %s: "
		    "%zu roots, %zu signers)\n", progname, where,
		    srv.trust_path, first->roots, first->signers);
	}
	for (;;) {
		int sig;

		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(ctx);
			continue;
		}
		if (!srv.quiet)
			fprintf(stderr, "%s serve: %s, stopping\n", progname,
			    sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	mhd.stop_daemon(d); /* waits for its threads; closes lfd */
	rc = EXIT_VALID;
done:
	trust_install(NULL);
	if (srv.web_fd != -1)
		close(srv.web_fd);
	srv.web_fd = -1;
	srv.rec_file = srv.pol_file = NULL;
	jcs_ctx_free(ctx);
	return rc;
}
