/* util.c - files, hex, UTF-8 and time helpers shared by the modules. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>

#include "internal.h"

char *
jcs_strdup(const char *s)
{
	size_t n;
	char *p;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((p = malloc(n)) != NULL)
		memcpy(p, s, n);
	return p;
}

int
jcs_pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

int
jcs_read_file(jcs_ctx *ctx, const char *path, size_t max, uint8_t **out,
    size_t *outlen)
{
	int fd = -1;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;

	*out = NULL;
	*outlen = 0;
	if (is_stdin)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return jcs_fail(ctx, JCS_ERR_IO, "cannot open %s: %s", name,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot stat %s: %s", name,
		    strerror(errno));
		goto err;
	}
	if (S_ISDIR(st.st_mode)) {
		jcs_fail(ctx, JCS_ERR_IO, "%s is a directory, not a file",
		    name);
		goto err;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "%s is %jd bytes; at most %zu bytes are accepted", name,
		    (intmax_t)st.st_size, max);
		goto err;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap == 0 ? 4096 : cap * 2;
			uint8_t *nbuf;

			if (ncap > max + 1)
				ncap = max + 1;
			if ((nbuf = realloc(buf, ncap + 1)) == NULL) {
				jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
				goto err;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			jcs_fail(ctx, JCS_ERR_IO, "cannot read %s: %s", name,
			    strerror(errno));
			goto err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			jcs_fail(ctx, JCS_ERR_TOO_LARGE,
			    "%s is larger than %zu bytes, the most accepted",
			    name, max);
			goto err;
		}
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	buf[len] = '\0';
	if (!is_stdin)
		close(fd);
	*out = buf;
	*outlen = len;
	return 0;
err:
	if (fd != -1 && !is_stdin)
		close(fd);
	free(buf);
	return -1;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
jcs_write_file_atomic(jcs_ctx *ctx, const char *path, const void *data,
    size_t len, int mode)
{
	char *tmp = NULL;
	int fd = -1;
	size_t n;

	if (strcmp(path, "-") == 0) {
		if (write_all(STDOUT_FILENO, data, len) == -1)
			return jcs_fail(ctx, JCS_ERR_IO,
			    "cannot write standard output: %s",
			    strerror(errno));
		return 0;
	}
	n = strlen(path) + sizeof(".tmp-XXXXXX");
	if ((tmp = malloc(n)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp-XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot create %s: %s", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) == -1 || write_all(fd, data, len) == -1 ||
	    ((ctx == NULL || !ctx->defer_sync) && fsync(fd) == -1)) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s", path,
		    strerror(errno));
		goto err;
	}
	if (close(fd) == -1) {
		fd = -1;
		jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s", path,
		    strerror(errno));
		goto err;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot write %s: %s", path,
		    strerror(errno));
		goto err;
	}
	free(tmp);
	return 0;
err:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

int
jcs_write_secret_file(jcs_ctx *ctx, const char *path, const void *data,
    size_t len)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return jcs_fail(ctx, errno == EEXIST ? JCS_ERR_EXISTS :
		    JCS_ERR_IO, "cannot create key file %s: %s", path,
		    strerror(errno));
	if (write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot write key file %s: %s",
		    path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) == -1) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot write key file %s: %s",
		    path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

void
jcs_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
jcs_utf8_check(const char *str, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n;

		if (s[i] < 0x80) {
			cp = s[i];
			n = 1;
		} else if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			cp = s[i] & 0x1fu;
			n = 2;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			cp = s[i] & 0x0fu;
			n = 3;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			cp = s[i] & 0x07u;
			n = 4;
		} else {
			goto bad;
		}
		if (n > len - i)
			goto bad;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			goto bad;
		/* C0 and C1 controls, DEL; invisible format and bidi
		 * controls that could make printed text lie (zero-width
		 * characters, LRM/RLM, embeddings and overrides, isolates,
		 * line/paragraph separators, BOM) */
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    (cp >= 0x200b && cp <= 0x200f) ||
		    (cp >= 0x2028 && cp <= 0x202e) ||
		    (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff)
			goto bad;
		i += n;
	}
	return 0;
bad:
	if (bad != NULL)
		*bad = i;
	return -1;
}

/* Returns 1 if code point cp is white space (ASCII or Unicode Zs). */
static int
is_space_cp(uint32_t cp)
{
	return cp == ' ' || cp == 0xa0 || cp == 0x1680 ||
	    (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000;
}

int
jcs_utf8_edge_space(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, start;
	uint32_t first = 0, last = 0;

	if (len == 0)
		return 0;
	/* first code point */
	for (i = 1; i < len && (s[i] & 0xc0) == 0x80; i++)
		;
	for (size_t k = 0; k < i; k++)
		first = k == 0 ? (uint32_t)(s[0] & (s[0] < 0x80 ? 0x7f :
		    s[0] < 0xe0 ? 0x1f : s[0] < 0xf0 ? 0x0f : 0x07)) :
		    (first << 6) | (s[k] & 0x3fu);
	/* last code point */
	for (start = len - 1; start > 0 && (s[start] & 0xc0) == 0x80; start--)
		;
	for (size_t k = start; k < len; k++)
		last = k == start ? (uint32_t)(s[k] & (s[k] < 0x80 ? 0x7f :
		    s[k] < 0xe0 ? 0x1f : s[k] < 0xf0 ? 0x0f : 0x07)) :
		    (last << 6) | (s[k] & 0x3fu);
	return is_space_cp(first) || is_space_cp(last);
}

static int
parse_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
jcs_time_parse(jcs_ctx *ctx, const char *text, time_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, s = 0;
	size_t len;
	time_t t;

	if (text == NULL)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no time given");
	len = strlen(text);
	if ((len != 10 && len != 20) || parse_digits(text, 4, &y) ||
	    text[4] != '-' || parse_digits(text + 5, 2, &mo) ||
	    text[7] != '-' || parse_digits(text + 8, 2, &d))
		goto bad;
	if (len == 20 && (text[10] != 'T' || parse_digits(text + 11, 2, &h) ||
	    text[13] != ':' || parse_digits(text + 14, 2, &mi) ||
	    text[16] != ':' || parse_digits(text + 17, 2, &s) ||
	    text[19] != 'Z'))
		goto bad;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || s > 59)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	/* timegm normalises 2025-02-30 to March: refuse such dates. */
	/* 0 (the epoch itself) means "not set" in the API's structures */
	if (t <= 0 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		goto bad;
	*out = t;
	jcs_ok(ctx);
	return 0;
bad:
	return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
	    "'%s' is not a date (YYYY-MM-DD) or UTC time "
	    "(YYYY-MM-DDTHH:MM:SSZ) after 1970-01-01T00:00:00Z", text);
}

char *
jcs_time_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

char *
jcs_date_format(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

time_t
jcs_add_years(time_t t, int n)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return (time_t)-1;
	tm.tm_year += n;
	return timegm(&tm);
}

int
jcs_asn1_time_to_time(const ASN1_TIME *at, time_t *out)
{
	struct tm tm;

	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

int
jcs_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
