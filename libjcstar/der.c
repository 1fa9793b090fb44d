/*
 * der.c - structural DER check with byte offsets.
 *
 * OpenSSL's decoder accepts BER (indefinite and long-form lengths) and says
 * little about where input went wrong. This walk runs first, so that a
 * truncated or padded label gets a message naming the byte; the label module
 * then decodes with OpenSSL.
 *
 * For a label (JCS_DER_LABEL, run after the decoder accepted it) the walk
 * also refuses, by the format's own types, the BER that OpenSSL's decoder
 * lets through and its encoder would write otherwise: a constructed
 * string, an encoded critical FALSE (the DEFAULT), a non-minimal INTEGER
 * or ENUMERATED. That pass walks the structure again, which costs little
 * beside the decoder and keeps one walker. With what the decoder
 * refuses itself, a label that passes both is the canonical encoding of
 * what was decoded (builds with JCS_REENCODE_CHECK, the fuzzers and the
 * sanitizer tests, re-encode every label and abort if it is not).
 */
#include "internal.h"

#define MAX_DEPTH 16

struct walk {
	jcs_ctx *ctx;
	const uint8_t *base;
	size_t total;
	const char *what;
	int label;                /* JCS_DER_LABEL: the label rules too */
};

/* The label rules for one element: tag at start, content [off, off+len). */
static int
label_rules(struct walk *w, uint8_t tag, size_t start, size_t off,
    size_t len)
{
	const uint8_t *c = w->base + off;

	/* constructed: SEQUENCE, and [1] (the extensions); a label has no
	 * other constructed type, so another is a BER string in pieces */
	if ((tag & 0x20) && tag != 0x30 && tag != 0xa1)
		return jcs_fail(w->ctx, JCS_ERR_NOT_DER, "%s is not DER: "
		    "constructed encoding (tag 0x%02x) at byte %zu of a value "
		    "that DER encodes primitive", w->what, tag, start);
	switch (tag) {
	case 0x01: /* BOOLEAN: only an extension's critical, DEFAULT FALSE */
		if (len != 1)
			return jcs_fail(w->ctx, JCS_ERR_MALFORMED, "%s is "
			    "malformed: a BOOLEAN of %zu bytes at byte %zu",
			    w->what, len, start);
		if (c[0] == 0x00)
			return jcs_fail(w->ctx, JCS_ERR_NOT_DER, "%s is not "
			    "strict DER: critical FALSE is encoded at byte %zu "
			    "(FALSE is the DEFAULT, which DER leaves out)",
			    w->what, start);
		break;
	case 0x02: /* INTEGER */
	case 0x0a: /* ENUMERATED */
		if (len == 0)
			return jcs_fail(w->ctx, JCS_ERR_MALFORMED, "%s is "
			    "malformed: an empty %s at byte %zu", w->what,
			    tag == 0x02 ? "INTEGER" : "ENUMERATED", start);
		if (len > 1 && ((c[0] == 0x00 && c[1] < 0x80) ||
		    (c[0] == 0xff && c[1] >= 0x80)))
			return jcs_fail(w->ctx, JCS_ERR_NOT_DER, "%s is not "
			    "DER: the %s at byte %zu has a redundant leading "
			    "byte", w->what, tag == 0x02 ? "INTEGER" :
			    "ENUMERATED", start);
		break;
	default:
		break;
	}
	return 0;
}

/* The outermost element running past the end of the input is a truncated
 * label; an inner one running past the end of its enclosing element (which
 * itself fits) is a malformed one. */
static int
overrun(struct walk *w, size_t start, size_t need, size_t end, int depth)
{
	if (depth == 0)
		return jcs_fail(w->ctx, JCS_ERR_TRUNCATED,
		    "%s is truncated at byte %zu of %zu: the element at byte "
		    "%zu needs %zu more bytes", w->what, w->total, start + need,
		    start, start + need - w->total);
	return jcs_fail(w->ctx, JCS_ERR_MALFORMED,
	    "%s is malformed: the element at byte %zu overruns its enclosing "
	    "element, which ends at byte %zu", w->what, start, end);
}


/* Walks the elements in [off, end). */
static int
walk(struct walk *w, size_t off, size_t end, int depth)
{
	while (off < end) {
		size_t start = off, len = 0, hdr;
		uint8_t tag;

		if (depth > MAX_DEPTH)
			return jcs_fail(w->ctx, JCS_ERR_MALFORMED,
			    "%s nests deeper than %d levels at byte %zu",
			    w->what, MAX_DEPTH, off);
		tag = w->base[off++];
		if ((tag & 0x1f) == 0x1f)
			return jcs_fail(w->ctx, JCS_ERR_MALFORMED,
			    "%s has a multi-byte tag at byte %zu, which the "
			    "format never uses", w->what, start);
		if (off >= end)
			return overrun(w, start, 2, end, depth);
		if (w->base[off] < 0x80) {
			len = w->base[off++];
		} else if (w->base[off] == 0x80) {
			return jcs_fail(w->ctx, JCS_ERR_NOT_DER,
			    "%s is not DER: indefinite length at byte %zu",
			    w->what, off);
		} else {
			size_t n = w->base[off++] & 0x7fu;

			if (n > 4)
				return jcs_fail(w->ctx, JCS_ERR_MALFORMED,
				    "%s has an impossible length (%zu length "
				    "bytes) at byte %zu", w->what, n, off - 1);
			if (n > end - off)
				return overrun(w, start, 2 + n, end, depth);
			if (w->base[off] == 0)
				return jcs_fail(w->ctx, JCS_ERR_NOT_DER,
				    "%s is not DER: length at byte %zu has a "
				    "leading zero byte", w->what, off - 1);
			for (size_t i = 0; i < n; i++)
				len = (len << 8) | w->base[off++];
			if (len < 0x80)
				return jcs_fail(w->ctx, JCS_ERR_NOT_DER,
				    "%s is not DER: length %zu at byte %zu "
				    "uses the long form", w->what, len,
				    start + 1);
		}
		hdr = off - start;
		if (len > end - off)
			return overrun(w, start, hdr + len, end, depth);
		if (w->label && label_rules(w, tag, start, off, len) == -1)
			return -1;
		if ((tag & 0x20) && walk(w, off, off + len, depth + 1) == -1)
			return -1;
		off += len;
		if (depth == 0 && off < end)
			return jcs_fail(w->ctx, JCS_ERR_MALFORMED,
			    "%s has %zu trailing byte%s after its end at "
			    "byte %zu", w->what, end - off,
			    end - off == 1 ? "" : "s", off);
	}
	return 0;
}

int
jcs_der_check(jcs_ctx *ctx, const uint8_t *buf, size_t len, const char *what,
    int rules)
{
	struct walk w = { ctx, buf, len, what, rules == JCS_DER_LABEL };

	if (len == 0)
		return jcs_fail(ctx, JCS_ERR_MALFORMED, "%s is empty", what);
	if (buf[0] != 0x30)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "not a jcstar %s: it starts with byte 0x%02x, not a DER "
		    "SEQUENCE (0x30)", what, buf[0]);
	return walk(&w, 0, len, 0);
}
