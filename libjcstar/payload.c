/*
 * payload.c - label bytes <-> the text carried in a QR code.
 *
 *   bare  "JCS1:" + RFC 9285 Base45 of the DER: all in the QR alphanumeric
 *         set, for dedicated scanners.
 *   url   "HTTPS://HOST/PATH/" + the DER in digit groups (7 bytes -> 17
 *         digits): the URL opens the verifier page on a phone, the digits go
 *         in QR numeric mode (3.3 bits a digit, about as dense as Base45),
 *         and nothing in it is rewritten by camera apps (no %, no spaces).
 *
 * docs/FORMAT.md ("Payload forms") is the normative description.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const char b45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/* digits for a final group of k bytes, k = 0..7 */
static const int group_digits[8] = { 0, 3, 5, 8, 10, 13, 15, 17 };

int
jcs_form_from_name(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "url") == 0)
		return JCS_FORM_URL;
	if (strcmp(name, "bare") == 0)
		return JCS_FORM_BARE;
	return 0;
}

static int
b45_value(int c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b45, c)) == NULL)
		return -1;
	return (int)(p - b45);
}

size_t
jcs_base45_encoded_len(size_t n)
{
	return n / 2 * 3 + (n % 2) * 2;
}

void
jcs_base45_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned v = (unsigned)in[i] * 256u + in[i + 1];

		out[o++] = b45[v % 45];
		out[o++] = b45[v / 45 % 45];
		out[o++] = b45[v / 2025];
	}
	if (n % 2) {
		unsigned v = in[n - 1];

		out[o++] = b45[v % 45];
		out[o++] = b45[v / 45];
	}
	out[o] = '\0';
}

int
jcs_base45_decode(jcs_ctx *ctx, const char *in, size_t n, uint8_t *out,
    size_t *outlen, size_t offset)
{
	size_t o = 0;

	if (n % 3 == 1)
		return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
		    "Base45 text of %zu characters is impossible (a length of "
		    "3k+1): the payload was cut or padded", n);
	for (size_t i = 0; i < n; i += 3) {
		size_t k = n - i >= 3 ? 3 : 2;
		unsigned v = 0, mul = 1;

		for (size_t j = 0; j < k; j++) {
			int d = b45_value((unsigned char)in[i + j]);

			if (d < 0) {
				if (islower((unsigned char)in[i + j]))
					return jcs_fail(ctx,
					    JCS_ERR_BAD_PAYLOAD,
					    "lower-case '%c' at position %zu: "
					    "Base45 is upper case (was the "
					    "payload case-folded?)",
					    in[i + j], offset + i + j);
				return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
				    "character 0x%02x at position %zu is not "
				    "Base45", (unsigned char)in[i + j],
				    offset + i + j);
			}
			v += (unsigned)d * mul;
			mul *= 45;
		}
		if (v > (k == 3 ? 0xffffu : 0xffu))
			return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
			    "Base45 group '%.*s' at position %zu is out of "
			    "range (%u)", (int)k, in + i, offset + i, v);
		if (k == 3)
			out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	*outlen = o;
	return 0;
}

size_t
jcs_digits_encoded_len(size_t n)
{
	return n / 7 * 17 + (size_t)group_digits[n % 7];
}

void
jcs_digits_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 7) {
		size_t k = n - i >= 7 ? 7 : n - i;
		uint64_t v = 0;
		int d = group_digits[k];

		for (size_t j = 0; j < k; j++)
			v = (v << 8) | in[i + j];
		for (int j = d - 1; j >= 0; j--) {
			out[o + (size_t)j] = (char)('0' + v % 10);
			v /= 10;
		}
		o += (size_t)d;
	}
	out[o] = '\0';
}

int
jcs_digits_decode(jcs_ctx *ctx, const char *in, size_t n, uint8_t *out,
    size_t *outlen, size_t offset)
{
	size_t o = 0, rest = n % 17;
	int k = 0;

	if (rest != 0) {
		for (k = 1; k < 7; k++)
			if ((size_t)group_digits[k] == rest)
				break;
		if (k == 7)
			return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
			    "%zu digits cannot encode a label (the last "
			    "group has %zu digits; it must have 3, 5, 8, 10, "
			    "13, 15 or 17): the code was cut or misread", n,
			    rest);
	}
	for (size_t i = 0; i < n; i += 17) {
		size_t d = n - i >= 17 ? 17 : rest;
		size_t bytes = d == 17 ? 7 : (size_t)k;
		uint64_t v = 0;

		for (size_t j = 0; j < d; j++) {
			if (in[i + j] < '0' || in[i + j] > '9')
				return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
				    "character 0x%02x at position %zu is not a "
				    "digit", (unsigned char)in[i + j],
				    offset + i + j);
			v = v * 10 + (uint64_t)(in[i + j] - '0');
		}
		if (bytes < 8 && v >> (8 * bytes) != 0)
			return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
			    "digit group at position %zu is out of range for "
			    "%zu bytes", offset + i, bytes);
		for (size_t j = bytes; j > 0; j--) {
			out[o + j - 1] = (uint8_t)(v & 0xff);
			v >>= 8;
		}
		o += bytes;
	}
	*outlen = o;
	return 0;
}

int
jcs_base_url_check(jcs_ctx *ctx, const char *url)
{
	size_t len;

	if (url == NULL || url[0] == '\0')
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "no verifier base URL (set one with 'jcstar ca init "
		    "--verify-url' or --base-url)");
	len = strlen(url);
	if (len > JCS_BASE_URL_MAX)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "base URL is %zu bytes; at most %d", len, JCS_BASE_URL_MAX);
	if (strncmp(url, "HTTPS://", 8) != 0)
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "base URL '%s' must start with upper-case HTTPS:// (QR "
		    "alphanumeric mode has no lower case)", url);
	if (len < 10 || url[8] == '/' || url[len - 1] != '/')
		return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
		    "base URL '%s' needs a host and must end in '/'", url);
	for (size_t i = 8; i < len; i++) {
		int c = (unsigned char)url[i];

		if (b45_value(c) < 0 || c == ' ' || c == '%')
			return jcs_fail(ctx, JCS_ERR_INVALID_ARG,
			    "base URL '%s': character '%c' at position %zu is "
			    "not allowed (upper-case letters, digits and "
			    "$ * + - . / : only)", url, isprint(c) ? c : '?',
			    i);
	}
	return 0;
}

char *
jcs_payload_encode(jcs_ctx *ctx, const uint8_t *der, size_t len, int form,
    const char *base_url)
{
	char *out;
	size_t n;

	if (der == NULL || len == 0 || len > JCS_LABEL_MAX_DER) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no label bytes, or more "
		    "than %d", JCS_LABEL_MAX_DER);
		return NULL;
	}
	if (form == JCS_FORM_BARE) {
		n = strlen(JCS_BARE_PREFIX) + jcs_base45_encoded_len(len);
		if ((out = malloc(n + 1)) == NULL)
			goto nomem;
		memcpy(out, JCS_BARE_PREFIX, strlen(JCS_BARE_PREFIX));
		jcs_base45_encode(der, len, out + strlen(JCS_BARE_PREFIX));
	} else if (form == JCS_FORM_URL) {
		size_t ul;

		if (jcs_base_url_check(ctx, base_url) == -1)
			return NULL;
		ul = strlen(base_url);
		n = ul + jcs_digits_encoded_len(len);
		if ((out = malloc(n + 1)) == NULL)
			goto nomem;
		memcpy(out, base_url, ul);
		jcs_digits_encode(der, len, out + ul);
	} else {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "unknown payload form %d",
		    form);
		return NULL;
	}
	jcs_ok(ctx);
	return out;
nomem:
	jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	return NULL;
}

int
jcs_payload_decode(jcs_ctx *ctx, const char *text, size_t len, uint8_t **der,
    size_t *derlen, int *form)
{
	size_t plen = strlen(JCS_BARE_PREFIX), start;
	uint8_t *buf;
	int f, rc;

	*der = NULL;
	*derlen = 0;
	if (text == NULL || len == 0)
		return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
		    "not a jcstar payload: the text is empty");
	if (len > JCS_PAYLOAD_MAX)
		return jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "payload is %zu bytes; at most %d are accepted", len,
		    JCS_PAYLOAD_MAX);
	if (memchr(text, '\0', len) != NULL)
		return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
		    "not a jcstar payload: it holds a NUL byte");
	if (len >= plen && memcmp(text, JCS_BARE_PREFIX, plen) == 0) {
		f = JCS_FORM_BARE;
		start = plen;
	} else if (len >= plen && strncasecmp(text, JCS_BARE_PREFIX,
	    plen) == 0) {
		return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
		    "payload prefix '%.*s' must be upper case '"
		    JCS_BARE_PREFIX "' (was the payload case-folded?)",
		    (int)plen, text);
	} else if (len >= 8 && strncasecmp(text, "https://", 8) == 0) {
		/* the label is the last path segment: all digits */
		const char *slash = NULL;

		for (size_t i = 8; i < len; i++)
			if (text[i] == '/')
				slash = text + i;
		if (slash == NULL || slash == text + 7 ||
		    slash[-1] == '/')
			return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
			    "not a jcstar payload: a URL without a label "
			    "path");
		start = (size_t)(slash - text) + 1;
		/* the address before the digits: URL characters of the QR
		 * alphanumeric set in either case (browsers lower-case the
		 * host), nothing that could hide in a terminal or a page */
		for (size_t i = 8; i < start; i++) {
			int ch = (unsigned char)text[i];

			if (!isalnum(ch) && strchr("$*+-./:", ch) == NULL)
				return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
				    "not a jcstar payload: character 0x%02x at "
				    "position %zu cannot be in a verifier "
				    "address", ch, i);
		}
		if (start == len)
			return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
			    "not a jcstar payload: the URL ends in '/' with "
			    "no label digits after it");
		if (!isdigit((unsigned char)text[start]))
			return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
			    "not a jcstar payload: the URL's last path "
			    "segment is not label digits");
		/* the smallest label is well over 100 bytes: a URL ending
		 * in a short number is some other page, not a damaged label */
		if (len - start < 100)
			return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
			    "not a jcstar payload: %zu digits are too few to hold "
			    "a label", len - start);
		f = JCS_FORM_URL;
	} else {
		return jcs_fail(ctx, JCS_ERR_NOT_PAYLOAD,
		    "not a jcstar payload: expected '" JCS_BARE_PREFIX
		    "...' or an HTTPS:// verifier URL");
	}
	if ((buf = malloc(len)) == NULL)
		return jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
	if (f == JCS_FORM_BARE)
		rc = jcs_base45_decode(ctx, text + start, len - start, buf,
		    derlen, start);
	else
		rc = jcs_digits_decode(ctx, text + start, len - start, buf,
		    derlen, start);
	if (rc == -1) {
		free(buf);
		return -1;
	}
	if (*derlen == 0) {
		free(buf);
		return jcs_fail(ctx, JCS_ERR_BAD_PAYLOAD,
		    "the payload holds no label bytes");
	}
	/* what decodes must be a label that could have been encoded (found
	 * by fuzz_payload: a long url form decoded to more than any label) */
	if (*derlen > JCS_LABEL_MAX_DER) {
		size_t n = *derlen;

		free(buf);
		*derlen = 0;
		return jcs_fail(ctx, JCS_ERR_TOO_LARGE, "the payload holds "
		    "%zu bytes; a label is at most %d", n, JCS_LABEL_MAX_DER);
	}
	*der = buf;
	if (form != NULL)
		*form = f;
	jcs_ok(ctx);
	return 0;
}

jcs_label *
jcs_label_from_payload(jcs_ctx *ctx, const char *text, size_t len)
{
	uint8_t *der;
	size_t n;
	jcs_label *l;

	if (jcs_payload_decode(ctx, text, len, &der, &n, NULL) == -1)
		return NULL;
	l = jcs_label_from_der(ctx, der, n);
	free(der);
	return l;
}
