/* scheme.c - the schemes a label can name (fixed by the format) and their
 * profiles (data files: certs/schemes/NAME.scheme, docs/SCHEMES.md). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "internal.h"

/* The scheme codes of the label format (docs/FORMAT.md): never renumber. */
static const struct {
	int id;
	const char *name;
} codes[] = {
	{ JCS_SCHEME_JCSTAR, "jcstar" },
	{ JCS_SCHEME_CLS, "cls" },
	{ JCS_SCHEME_PSTI, "psti" },
	{ JCS_SCHEME_CYBER_TRUST_MARK, "cyber-trust-mark" },
	{ JCS_SCHEME_CRA, "cra" },
};
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

#define PROFILE_MAX_FILE (64 * 1024)
#define PROFILE_MAX_LINE 1024
#define PROFILE_MAX_TEXT 96     /* display, authority, level names */
#define PROFILE_MAX_NAME 64     /* template names */

struct jcs_schemes {
	size_t n;
	struct jcs_profile p[N_CODES];
	/* the strings of every profile, in one allocation each */
	char *text[N_CODES];
};

const char *
jcs_scheme_name(int scheme)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (codes[i].id == scheme)
			return codes[i].name;
	return NULL;
}

int
jcs_scheme_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < N_CODES; i++)
		if (strcasecmp(codes[i].name, name) == 0)
			return codes[i].id;
	return 0;
}

static const char *const style_names[] = {
	[JCS_STYLE_STARS] = "stars", [JCS_STYLE_ASTERISKS] = "asterisks",
	[JCS_STYLE_MARK] = "mark", [JCS_STYLE_CLASS] = "class",
};

const char *
jcs_style_name(int style)
{
	if (style < JCS_STYLE_STARS || style > JCS_STYLE_CLASS)
		return "unknown";
	return style_names[style];
}

/* ---- parsing ----------------------------------------------------------- */

/* A profile while it is parsed: strings point into the file's buffer. */
struct draft {
	const char *file;
	int seen[32];           /* line of each key seen, by key index */
	int scheme;
	const char *display, *authority, *country;
	int min_level, max_level, style, third_party_from;
	int max_years, max_days, support_required, within_support;
	const char *level_name[JCS_PROFILE_MAX_LEVELS + 1];
	int level_name_line[JCS_PROFILE_MAX_LEVELS + 1];
	const char *tmpl_all;
	const char *tmpl[JCS_PROFILE_MAX_LEVELS + 1];
	int tmpl_line[JCS_PROFILE_MAX_LEVELS + 1];
};

enum key {
	K_SCHEME, K_DISPLAY, K_AUTHORITY, K_COUNTRY, K_LEVELS, K_STYLE,
	K_THIRD_PARTY, K_MAX_VALIDITY, K_SUPPORT, K_WITHIN, K_TEMPLATE,
	K_COUNT
};
static const char *const key_names[K_COUNT] = {
	"scheme", "display", "authority", "country", "levels", "level_style",
	"third_party_from", "max_validity", "support_until", "within_support",
	"template",
};
static const int key_required[K_COUNT] = {
	1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0,
};

#define PFAIL(ctx, d, line, ...) \
	jcs_fail_at((ctx), JCS_ERR_PROFILE, (d)->file, (line), __VA_ARGS__)

int
jcs_fail_at(jcs_ctx *ctx, jcs_err err, const char *file, int line,
    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return jcs_fail(ctx, err, "%s:%d: %s", file, line, msg);
	return jcs_fail(ctx, err, "%s: %s", file, msg);
}

/* Parses a decimal number in [lo, hi] from s[0..len). */
int
jcs_parse_int(const char *s, size_t len, int lo, int hi, int *out)
{
	long v = 0;

	if (len == 0 || len > 9)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

/* Parses "N" or "LOW-HIGH" into *lo, *hi (each 1..255). */
int
jcs_parse_level_range(const char *s, int *lo, int *hi)
{
	const char *dash = strchr(s, '-');

	if (dash == NULL) {
		if (jcs_parse_int(s, strlen(s), 1, 255, lo) == -1)
			return -1;
		*hi = *lo;
		return 0;
	}
	if (jcs_parse_int(s, (size_t)(dash - s), 1, 255, lo) == -1 ||
	    jcs_parse_int(dash + 1, strlen(dash + 1), 1, 255, hi) == -1 ||
	    *hi < *lo)
		return -1;
	return 0;
}

static int
text_ok(jcs_ctx *ctx, struct draft *d, int line, const char *key,
    const char *v, size_t max)
{
	size_t len = strlen(v), bad;

	if (len == 0)
		return PFAIL(ctx, d, line, "%s is empty", key);
	if (len > max)
		return PFAIL(ctx, d, line, "%s is %zu bytes long (at most %zu)",
		    key, len, max);
	if (jcs_utf8_check(v, len, &bad) == -1)
		return PFAIL(ctx, d, line, "%s is not valid UTF-8 (byte %zu)",
		    key, bad + 1);
	return 0;
}

static int
name_ok(jcs_ctx *ctx, struct draft *d, int line, const char *v)
{
	if (*v == '\0' || strlen(v) > PROFILE_MAX_NAME)
		return PFAIL(ctx, d, line, "template name '%s' must be 1 to "
		    "%d characters", v, PROFILE_MAX_NAME);
	for (const char *p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.') || (p == v && *p == '.'))
			return PFAIL(ctx, d, line, "template name '%s' may hold "
			    "only letters, digits, '-', '_' and '.'", v);
	return 0;
}

static int
yes_no(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Level-indexed keys: "level.N" and "template.N". */
static int
indexed(jcs_ctx *ctx, struct draft *d, int line, const char *key,
    const char *v)
{
	const char *dot = strchr(key, '.');
	int n, is_level;

	is_level = strncmp(key, "level.", 6) == 0;
	if (!is_level && strncmp(key, "template.", 9) != 0)
		return PFAIL(ctx, d, line, "unknown key '%s' (known: scheme "
		    "display authority country levels level_style level.N "
		    "third_party_from max_validity support_until "
		    "within_support template template.N)", key);
	if (jcs_parse_int(dot + 1, strlen(dot + 1), 1,
	    JCS_PROFILE_MAX_LEVELS, &n) == -1)
		return PFAIL(ctx, d, line, "'%s': the level must be a number "
		    "from 1 to %d", key, JCS_PROFILE_MAX_LEVELS);
	if (is_level) {
		if (d->level_name[n] != NULL)
			return PFAIL(ctx, d, line, "%s is given twice (also "
			    "on line %d)", key, d->level_name_line[n]);
		if (text_ok(ctx, d, line, key, v, PROFILE_MAX_TEXT) == -1)
			return -1;
		d->level_name[n] = v;
		d->level_name_line[n] = line;
	} else {
		if (d->tmpl[n] != NULL)
			return PFAIL(ctx, d, line, "%s is given twice (also "
			    "on line %d)", key, d->tmpl_line[n]);
		if (name_ok(ctx, d, line, v) == -1)
			return -1;
		d->tmpl[n] = v;
		d->tmpl_line[n] = line;
	}
	return 0;
}

static int
set_key(jcs_ctx *ctx, struct draft *d, int line, const char *key,
    const char *v)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(key, key_names[k]) == 0)
			break;
	if (k == K_COUNT)
		return indexed(ctx, d, line, key, v);
	if (d->seen[k])
		return PFAIL(ctx, d, line, "%s is given twice (also on line "
		    "%d)", key, d->seen[k]);
	d->seen[k] = line;
	switch (k) {
	case K_SCHEME:
		if ((d->scheme = jcs_scheme_from_name(v)) == 0 ||
		    strcmp(v, jcs_scheme_name(d->scheme)) != 0)
			return PFAIL(ctx, d, line, "unknown scheme '%s' (the "
			    "label format knows jcstar, cls, psti, "
			    "cyber-trust-mark and cra)", v);
		return 0;
	case K_DISPLAY:
		d->display = v;
		return text_ok(ctx, d, line, key, v, PROFILE_MAX_TEXT);
	case K_AUTHORITY:
		d->authority = v;
		return text_ok(ctx, d, line, key, v, PROFILE_MAX_TEXT);
	case K_COUNTRY:
		d->country = v;
		if (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' ||
		    v[1] > 'Z')
			return PFAIL(ctx, d, line, "country '%s' must be two "
			    "capital letters (ISO 3166, or EU)", v);
		return 0;
	case K_LEVELS:
		if (jcs_parse_level_range(v, &d->min_level,
		    &d->max_level) == -1 ||
		    d->max_level > JCS_PROFILE_MAX_LEVELS)
			return PFAIL(ctx, d, line, "levels '%s' is out of "
			    "range: give N or LOW-HIGH, from 1 to %d", v,
			    JCS_PROFILE_MAX_LEVELS);
		return 0;
	case K_STYLE:
		for (int s = JCS_STYLE_STARS; s <= JCS_STYLE_CLASS; s++)
			if (strcmp(v, style_names[s]) == 0) {
				d->style = s;
				return 0;
			}
		return PFAIL(ctx, d, line, "unknown level_style '%s' (known: "
		    "stars asterisks mark class)", v);
	case K_THIRD_PARTY:
		if (strcmp(v, "none") == 0) {
			d->third_party_from = 0;
			return 0;
		}
		if (jcs_parse_int(v, strlen(v), 1, JCS_PROFILE_MAX_LEVELS,
		    &d->third_party_from) == -1)
			return PFAIL(ctx, d, line, "third_party_from '%s' must "
			    "be a level or 'none'", v);
		return 0;
	case K_MAX_VALIDITY: {
		const char *sp = strchr(v, ' ');
		int n;

		if (strcmp(v, "none") == 0)
			return 0;
		if (sp == NULL || jcs_parse_int(v, (size_t)(sp - v), 1, 36500,
		    &n) == -1)
			goto bad_validity;
		if (strcmp(sp + 1, "years") == 0 ||
		    strcmp(sp + 1, "year") == 0) {
			if (n > 100)
				goto bad_validity;
			d->max_years = n;
		} else if (strcmp(sp + 1, "days") == 0 ||
		    strcmp(sp + 1, "day") == 0) {
			d->max_days = n;
		} else
			goto bad_validity;
		return 0;
bad_validity:
		return PFAIL(ctx, d, line, "max_validity '%s' must be 'N "
		    "years' (1-100), 'N days' (1-36500) or 'none'", v);
	}
	case K_SUPPORT:
		if (strcmp(v, "required") == 0)
			d->support_required = 1;
		else if (strcmp(v, "optional") != 0)
			return PFAIL(ctx, d, line, "support_until '%s' must be "
			    "'required' or 'optional'", v);
		return 0;
	case K_WITHIN:
		if (yes_no(v, &d->within_support) == -1)
			return PFAIL(ctx, d, line, "within_support '%s' must "
			    "be 'yes' or 'no'", v);
		return 0;
	case K_TEMPLATE:
		d->tmpl_all = v;
		return name_ok(ctx, d, line, v);
	}
	return 0;
}

/* Checks the whole profile once every line is read. */
static int
finish(jcs_ctx *ctx, struct draft *d)
{
	for (int k = 0; k < K_COUNT; k++)
		if (key_required[k] && !d->seen[k])
			return PFAIL(ctx, d, 0, "'%s' is missing",
			    key_names[k]);
	for (int n = 1; n <= JCS_PROFILE_MAX_LEVELS; n++) {
		int in = n >= d->min_level && n <= d->max_level;

		if (d->level_name[n] != NULL && !in)
			return PFAIL(ctx, d, d->level_name_line[n],
			    "level.%d: level %d is out of range (levels = "
			    "%d-%d)", n, n, d->min_level, d->max_level);
		if (d->tmpl[n] != NULL && !in)
			return PFAIL(ctx, d, d->tmpl_line[n],
			    "template.%d: level %d is out of range (levels = "
			    "%d-%d)", n, n, d->min_level, d->max_level);
		if (in && d->level_name[n] == NULL &&
		    (d->style == JCS_STYLE_MARK ||
		    d->style == JCS_STYLE_CLASS))
			return PFAIL(ctx, d, 0, "level_style %s needs a name "
			    "for every level: level.%d is missing",
			    style_names[d->style], n);
		if (in && d->tmpl[n] == NULL && d->tmpl_all == NULL)
			return PFAIL(ctx, d, 0, "no template for level %d: "
			    "give template or template.%d", n, n);
	}
	if (d->third_party_from > d->max_level)
		return PFAIL(ctx, d, d->seen[K_THIRD_PARTY],
		    "third_party_from %d is above the highest level (%d)",
		    d->third_party_from, d->max_level);
	if (d->max_years == 0 && d->max_days == 0 && !d->within_support)
		return PFAIL(ctx, d, d->seen[K_MAX_VALIDITY],
		    "max_validity none needs within_support = yes (and "
		    "support_until = required), or labels would have no "
		    "bound");
	if (d->max_years == 0 && d->max_days == 0 && !d->support_required)
		return PFAIL(ctx, d, d->seen[K_MAX_VALIDITY],
		    "max_validity none needs support_until = required");
	return 0;
}

/* Copies the draft's strings into one allocation owned by the set. */
static int
commit_profile(jcs_ctx *ctx, jcs_schemes *set, struct draft *d,
    const char *file)
{
	const char *src[3 + 2 * JCS_PROFILE_MAX_LEVELS + 3];
	size_t n = 0, total = 0;
	struct jcs_profile *p;
	char *buf, *w;

	for (size_t i = 0; i < set->n; i++)
		if (set->p[i].scheme == d->scheme)
			return PFAIL(ctx, d, d->seen[K_SCHEME], "a second "
			    "profile for %s (the first is %s)",
			    jcs_scheme_name(d->scheme), set->p[i].file);
	p = &set->p[set->n];
	memset(p, 0, sizeof(*p));
	src[n++] = file;
	src[n++] = d->display;
	src[n++] = d->authority;
	src[n++] = d->country != NULL ? d->country : "";
	for (int l = 1; l <= JCS_PROFILE_MAX_LEVELS; l++) {
		src[n++] = d->level_name[l];
		src[n++] = d->tmpl[l] != NULL ? d->tmpl[l] : (l >=
		    d->min_level && l <= d->max_level ? d->tmpl_all : NULL);
	}
	for (size_t i = 0; i < n; i++)
		total += src[i] != NULL ? strlen(src[i]) + 1 : 0;
	if ((buf = malloc(total)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	w = buf;
	{
		const char **dst[4] = { &p->file, &p->display, &p->authority,
			&p->country };

		for (size_t i = 0; i < n; i++) {
			const char *out = NULL;

			if (src[i] != NULL) {
				size_t len = strlen(src[i]) + 1;

				memcpy(w, src[i], len);
				out = w;
				w += len;
			}
			if (i < 4)
				*dst[i] = out;
			else if ((i - 4) % 2 == 0)
				p->level_name[1 + (i - 4) / 2] = out;
			else
				p->tmpl[1 + (i - 4) / 2] = out;
		}
	}
	p->scheme = d->scheme;
	p->name = jcs_scheme_name(d->scheme);
	p->min_level = d->min_level;
	p->max_level = d->max_level;
	p->style = d->style;
	p->third_party_from = d->third_party_from;
	p->max_years = d->max_years;
	p->max_days = d->max_days;
	p->support_required = d->support_required;
	p->within_support = d->within_support;
	set->text[set->n] = buf;
	set->n++;
	return 0;
}

/* Splits buf (NUL-terminated, modified) into "key = value" lines. */
static int
parse_profile(jcs_ctx *ctx, jcs_schemes *set, const char *file, char *buf,
    size_t len)
{
	struct draft d;
	char *line = buf, *end = buf + len;
	int lineno = 0;

	memset(&d, 0, sizeof(d));
	d.file = file;
	if (strlen(buf) != len)
		return PFAIL(ctx, &d, 0, "contains a NUL byte");
	while (line < end) {
		char *nl = strchr(line, '\n'), *eq, *k, *v, *ke, *ve;

		lineno++;
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if ((size_t)(nl - line) > PROFILE_MAX_LINE)
			return PFAIL(ctx, &d, lineno, "line is longer than %d "
			    "bytes", PROFILE_MAX_LINE);
		k = line;
		line = nl + 1;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			return PFAIL(ctx, &d, lineno, "expected 'key = value'");
		for (ke = eq; ke > k && (ke[-1] == ' ' || ke[-1] == '\t'); ke--)
			;
		*ke = '\0';
		for (v = eq + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (ve = v + strlen(v); ve > v && (ve[-1] == ' ' ||
		    ve[-1] == '\t'); ve--)
			;
		*ve = '\0';
		if (ke == k)
			return PFAIL(ctx, &d, lineno, "a key is missing before "
			    "'='");
		if (set_key(ctx, &d, lineno, k, v) == -1)
			return -1;
	}
	if (finish(ctx, &d) == -1)
		return -1;
	return commit_profile(ctx, set, &d, file);
}

jcs_schemes *
jcs_schemes_new_empty(jcs_ctx *ctx)
{
	jcs_schemes *set = calloc(1, sizeof(*set));

	if (set == NULL)
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	return set;
}

void
jcs_schemes_free(jcs_schemes *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++)
		free(set->text[i]);
	free(set);
}

int
jcs_schemes_add_mem(jcs_ctx *ctx, jcs_schemes *set, const char *name,
    const char *text, size_t len)
{
	char *copy;
	int rc;

	if (len > PROFILE_MAX_FILE)
		return jcs_fail(ctx, JCS_ERR_TOO_LARGE, "%s: a profile is at "
		    "most %d bytes", name, PROFILE_MAX_FILE);
	if (set->n == N_CODES)
		return jcs_fail(ctx, JCS_ERR_PROFILE, "%s: more profiles than "
		    "schemes", name);
	if ((copy = malloc(len + 1)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	rc = parse_profile(ctx, set, name, copy, len);
	free(copy);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

jcs_schemes *
jcs_schemes_load_dir(jcs_ctx *ctx, const char *dir)
{
	jcs_schemes *set = NULL;
	DIR *dh = NULL;
	struct dirent *de;
	char *names[64];
	size_t n = 0;

	if (dir == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no directory given");
		return NULL;
	}
	if ((dh = opendir(dir)) == NULL) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot read scheme profiles in %s: "
		    "%s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len <= 7 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 7, ".scheme") != 0)
			continue;
		if (n == sizeof(names) / sizeof(names[0])) {
			jcs_fail(ctx, JCS_ERR_PROFILE, "%s: more than %zu "
			    "profiles", dir, n);
			goto err;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
			goto err;
		}
		n++;
	}
	closedir(dh);
	dh = NULL;
	if (n == 0) {
		jcs_fail(ctx, JCS_ERR_PROFILE, "%s holds no scheme profiles "
		    "(*.scheme)", dir);
		goto err;
	}
	/* in name order, so that "a second profile" errors are stable */
	qsort(names, n, sizeof(names[0]), cmp_str);
	if ((set = jcs_schemes_new_empty(ctx)) == NULL)
		goto err;
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		uint8_t *buf = NULL;
		size_t len;
		int rc;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) >= sizeof(path)) {
			jcs_fail(ctx, JCS_ERR_INVALID_ARG, "path too long");
			goto err;
		}
		if (jcs_read_file(ctx, path, PROFILE_MAX_FILE, &buf,
		    &len) == -1)
			goto err;
		rc = jcs_schemes_add_mem(ctx, set, path, (const char *)buf,
		    len);
		free(buf);
		if (rc == -1)
			goto err;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	jcs_ok(ctx);
	return set;
err:
	if (dh != NULL)
		closedir(dh);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	jcs_schemes_free(set);
	return NULL;
}

jcs_schemes *
jcs_schemes_load_builtin(jcs_ctx *ctx)
{
	jcs_schemes *set;

	if ((set = jcs_schemes_new_empty(ctx)) == NULL)
		return NULL;
	for (const struct jcs_builtin_file *b = jcs_builtin_schemes;
	    b->name != NULL; b++)
		if (jcs_schemes_add_mem(ctx, set, b->name, b->text,
		    strlen(b->text)) == -1) {
			jcs_schemes_free(set);
			return NULL;
		}
	jcs_ok(ctx);
	return set;
}

/* The built-in set, parsed once per process and never freed. */
static CRYPTO_ONCE builtin_once = CRYPTO_ONCE_STATIC_INIT;
static jcs_schemes *builtin_set;

static void
builtin_init(void)
{
	builtin_set = jcs_schemes_load_builtin(NULL);
}

const jcs_schemes *
jcs_schemes_builtin(void)
{
	if (!CRYPTO_THREAD_run_once(&builtin_once, builtin_init))
		return NULL;
	return builtin_set;
}

size_t
jcs_schemes_count(const jcs_schemes *set)
{
	return set != NULL ? set->n : 0;
}

const jcs_profile *
jcs_schemes_get(const jcs_schemes *set, size_t i)
{
	return set != NULL && i < set->n ? &set->p[i] : NULL;
}

const jcs_profile *
jcs_schemes_find(const jcs_schemes *set, int scheme)
{
	if (set == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		if (set->p[i].scheme == scheme)
			return &set->p[i];
	return NULL;
}

void
jcs_ctx_set_schemes(jcs_ctx *ctx, const jcs_schemes *set)
{
	if (ctx != NULL)
		ctx->schemes = set;
}

const jcs_schemes *
jcs_ctx_schemes(const jcs_ctx *ctx)
{
	if (ctx != NULL && ctx->schemes != NULL)
		return ctx->schemes;
	return jcs_schemes_builtin();
}

const jcs_profile *
jcs_profile_of(const jcs_ctx *ctx, int scheme)
{
	return jcs_schemes_find(jcs_ctx_schemes(ctx), scheme);
}

/* ---- what a profile says ----------------------------------------------- */

int
jcs_profile_level_ok(const jcs_profile *p, int level)
{
	return p != NULL && level >= p->min_level && level <= p->max_level;
}

const char *
jcs_profile_template(const jcs_profile *p, int level)
{
	if (!jcs_profile_level_ok(p, level))
		return NULL;
	return p->tmpl[level];
}

const char *
jcs_scheme_display(const jcs_ctx *ctx, int scheme)
{
	const jcs_profile *p = jcs_profile_of(ctx, scheme);

	if (p != NULL)
		return p->display;
	return jcs_scheme_name(scheme) != NULL ? jcs_scheme_name(scheme) :
	    "unknown scheme";
}

const char *
jcs_level_text(const jcs_ctx *ctx, int scheme, int level, char *buf,
    size_t len)
{
	const jcs_profile *p = jcs_profile_of(ctx, scheme);
	const char *name;

	if (p == NULL) {
		snprintf(buf, len, "%s level %d", jcs_scheme_display(ctx,
		    scheme), level);
		return buf;
	}
	name = jcs_profile_level_ok(p, level) ? p->level_name[level] : NULL;
	if (name != NULL && strcmp(name, p->display) == 0)
		snprintf(buf, len, "%s", name);
	else if (name != NULL)
		snprintf(buf, len, "%s %s", p->display, name);
	else if (p->style == JCS_STYLE_STARS)
		snprintf(buf, len, "%s \u2605%d", p->display, level);
	else
		snprintf(buf, len, "%s level %d", p->display, level);
	return buf;
}

const char *
jcs_level_mark(const jcs_ctx *ctx, int scheme, int level, char *buf,
    size_t len)
{
	const jcs_profile *p = jcs_profile_of(ctx, scheme);
	size_t w = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (!jcs_profile_level_ok(p, level))
		return buf;
	switch (p->style) {
	case JCS_STYLE_STARS:
		/* U+2605 BLACK STAR up to the level, then U+2606 WHITE STAR */
		for (int i = 1; i <= p->max_level && w + 4 <= len; i++, w += 3)
			memcpy(buf + w, i <= level ? "\xe2\x98\x85" :
			    "\xe2\x98\x86", 4);
		return buf;
	case JCS_STYLE_ASTERISKS:
		/* U+2731 HEAVY ASTERISK, one per level */
		for (int i = 1; i <= level && w + 4 <= len; i++, w += 3)
			memcpy(buf + w, "\xe2\x9c\xb1", 4);
		return buf;
	default:
		snprintf(buf, len, "%s", p->level_name[level] != NULL ?
		    p->level_name[level] : "");
		return buf;
	}
}

/* ---- rules ------------------------------------------------------------- */

int
jcs_profile_check_fields(jcs_ctx *ctx, jcs_err err, const jcs_label_fields *f,
    int issuing)
{
	/* issuing: a bad scheme or level is a bad argument, a broken rule
	 * an issuance-rule error; decoding: both are err */
	jcs_err arg = issuing ? JCS_ERR_INVALID_ARG : err;
	const jcs_profile *p;
	char lv[64];

	if (jcs_scheme_name(f->scheme) == NULL)
		return jcs_fail(ctx, arg, "unknown scheme %d", f->scheme);
	if ((p = jcs_profile_of(ctx, f->scheme)) == NULL)
		return jcs_fail(ctx, arg, "no profile for scheme %s is loaded",
		    jcs_scheme_name(f->scheme));
	if (!jcs_profile_level_ok(p, f->level)) {
		if (p->min_level == p->max_level)
			return jcs_fail(ctx, arg, "level %d is not defined "
			    "for %s (only level %d; %s)", f->level, p->display,
			    p->min_level, p->file);
		return jcs_fail(ctx, arg, "level %d is not defined for %s "
		    "(%d to %d; %s)", f->level, p->display, p->min_level,
		    p->max_level, p->file);
	}
	if (p->third_party_from > 0 && f->level >= p->third_party_from &&
	    f->lab == NULL)
		return jcs_fail(ctx, err, "%s needs a third-party assessment "
		    "naming the lab or body%s (%s: third_party_from = %d)",
		    jcs_level_text(ctx, f->scheme, f->level, lv, sizeof(lv)),
		    issuing ? " (--lab)" : "", p->file, p->third_party_from);
	if (issuing && p->support_required && f->support_until == 0)
		return jcs_fail(ctx, err, "%s labels state the end of the "
		    "support period: give it (--support-until) (%s: "
		    "support_until = required)", p->display, p->file);
	return 0;
}

int
jcs_profile_validity(jcs_ctx *ctx, const jcs_profile *p, time_t not_before,
    time_t support_until, time_t *limit, const char **why)
{
	time_t cap = 0;

	*why = NULL;
	if (p->max_years > 0) {
		cap = jcs_add_years(not_before, p->max_years);
		*why = "max_validity";
	} else if (p->max_days > 0) {
		cap = not_before + (time_t)p->max_days * 86400;
		*why = "max_validity";
	}
	/* the support period's last day is support_until: a label may run
	 * to the end of that day */
	if (p->within_support && support_until != 0 &&
	    (cap == 0 || support_until + 86400 < cap)) {
		cap = support_until + 86400;
		*why = "within_support";
	}
	if (cap == 0)
		return jcs_fail(ctx, JCS_ERR_POLICY_RULE, "%s labels need a "
		    "support period end to bound their validity (%s)",
		    p->display, p->file);
	*limit = cap;
	return 0;
}
