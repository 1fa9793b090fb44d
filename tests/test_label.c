/* test_label.c - label fields, DER encode/decode, strictness, PEM. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static uint8_t *ref;
static size_t ref_len;
static jcs_trust *trust;

static int
setup(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	ref = tu_read(tu_src("tests/vectors/ref-p256.der"), &ref_len);
	trust = jcs_trust_load_file(ctx, tu_src("tests/vectors/trust-p256.pem"));
	jcs_ctx_free(ctx);
	return trust == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	free(ref);
	jcs_trust_free(trust);
	return 0;
}

/* Parses and verifies buf at 2026-01-01; returns the error code. */
static jcs_err
check(const uint8_t *buf, size_t len, char *msg, size_t msglen)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_verify_opts o = { .at = tu_time("2026-01-01") };
	jcs_label *l = jcs_label_parse(ctx, buf, len);
	jcs_err e;

	if (l != NULL)
		jcs_verify(ctx, trust, l, &o, NULL);
	e = jcs_ctx_error(ctx);
	if (msg != NULL)
		snprintf(msg, msglen, "%s", jcs_ctx_message(ctx));
	jcs_label_free(l);
	jcs_ctx_free(ctx);
	return e;
}

static void
test_reference_valid(void **state)
{
	(void)state;
	assert_int_equal(check(ref, ref_len, NULL, 0), JCS_OK);
}

/* The layout the tables below rely on (docs/FORMAT.md, annotated dump). */
static void
test_reference_layout(void **state)
{
	(void)state;
	assert_int_equal(ref[0], 0x30);
	assert_int_equal(ref[3], 0x30);         /* tbsLabel */
	assert_int_equal(ref[5], 0x02);         /* version */
	assert_int_equal(ref[8], 0x02);         /* serial */
	assert_int_equal(ref[19], 0x04);        /* issuer key id */
	assert_int_equal(ref[29], 0x30);        /* validity */
	assert_int_equal(ref[43], 0x0a);        /* scheme */
	assert_int_equal(ref[46], 0x02);        /* level */
	assert_int_equal(ref[49], 0x30);        /* product */
	assert_memory_equal(ref + 53, "JCS-2025-000123", 15);
	assert_memory_equal(ref + 70, "Example Electronics Co., Ltd.", 29);
	assert_memory_equal(ref + 101, "Home Router", 11);
	assert_memory_equal(ref + 114, "HR-1000", 7);
	assert_int_equal(ref[121], 0x05);       /* assessment: NULL */
	assert_int_equal(ref[123], 0x80);       /* [0] supportUntil */
	assert_int_equal(ref[127], 0x30);       /* signatureAlgorithm */
	assert_int_equal(ref[139], 0x03);       /* signatureValue */
}

/* One bit flipped in each field gives that field's specific verdict. */
static const struct flip {
	const char *field;
	size_t off;
	uint8_t mask;
	jcs_err want;
	const char *msg;
} flips[] = {
	{ "outer tag", 0, 0x01, JCS_ERR_MALFORMED, "neither DER" },
	{ "tbs length", 4, 0x01, JCS_ERR_MALFORMED, "byte" },
	{ "version", 7, 0x01, JCS_ERR_MALFORMED, "version" },
	{ "serial", 12, 0x01, JCS_ERR_BAD_SIGNATURE, "altered or forged" },
	{ "issuer key id", 22, 0x01, JCS_ERR_UNKNOWN_ISSUER, "key id" },
	{ "not before", 34, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "not after", 40, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "scheme to 0", 45, 0x01, JCS_ERR_MALFORMED, "unknown scheme 0" },
	{ "scheme to psti", 45, 0x02, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "level to 0", 48, 0x01, JCS_ERR_MALFORMED, "level 0" },
	{ "level to 3", 48, 0x02, JCS_ERR_MALFORMED, "third-party" },
	{ "level to 5", 48, 0x04, JCS_ERR_MALFORMED, "level 5" },
	{ "reg id", 55, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "reg id control char", 53, 0x40, JCS_ERR_MALFORMED, "registration id" },
	{ "vendor", 70, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "product", 101, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "model", 114, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "assessment tag", 121, 0x01, JCS_ERR_MALFORMED, "not a jcstar label" },
	{ "support until", 126, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "algorithm", 138, 0x01, JCS_ERR_MALFORMED, "not allowed" },
	{ "signature", 150, 0x01, JCS_ERR_BAD_SIGNATURE, "signer key" },
	{ "signature unused bits", 141, 0x01, JCS_ERR_MALFORMED, "" },
};

static void
test_field_flips(void **state)
{
	uint8_t buf[512];
	char msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		jcs_err e;

		memcpy(buf, ref, ref_len);
		buf[flips[i].off] ^= flips[i].mask;
		e = check(buf, ref_len, msg, sizeof(msg));
		if (e != flips[i].want || strstr(msg, flips[i].msg) == NULL)
			fail_msg("%s: want %s '%s', got %s '%s'",
			    flips[i].field, jcs_err_name(flips[i].want),
			    flips[i].msg, jcs_err_name(e), msg);
	}
}

/* Every single-bit change anywhere is caught: nothing altered verifies. */
static void
test_every_bit_flip(void **state)
{
	uint8_t buf[512];

	(void)state;
	for (size_t i = 0; i < ref_len; i++)
		for (int b = 0; b < 8; b++) {
			jcs_err e;

			memcpy(buf, ref, ref_len);
			buf[i] ^= (uint8_t)(1u << b);
			e = check(buf, ref_len, NULL, 0);
			if (e == JCS_OK)
				fail_msg("byte %zu bit %d flipped verifies",
				    i, b);
			if (!jcs_err_is_verdict(e))
				fail_msg("byte %zu bit %d: %s is not a "
				    "verdict", i, b, jcs_err_name(e));
		}
}

static void
test_truncated(void **state)
{
	char msg[512], want[64];

	(void)state;
	for (size_t n = 1; n < ref_len; n++) {
		jcs_err e = check(ref, n, msg, sizeof(msg));

		if (e != JCS_ERR_TRUNCATED)
			fail_msg("prefix of %zu bytes: got %s (%s)", n,
			    jcs_err_name(e), msg);
	}
	/* the message names where it ends and how much was expected */
	check(ref, 87, msg, sizeof(msg));
	snprintf(want, sizeof(want), "truncated at byte 87 of %zu", ref_len);
	assert_non_null(strstr(msg, want));
}

static void
test_trailing(void **state)
{
	uint8_t buf[512];
	char msg[512];

	(void)state;
	memcpy(buf, ref, ref_len);
	buf[ref_len] = 0x00;
	assert_int_equal(check(buf, ref_len + 1, msg, sizeof(msg)),
	    JCS_ERR_MALFORMED);
	assert_non_null(strstr(msg, "1 trailing byte after"));
	memcpy(buf + ref_len, ref, ref_len); /* two labels back to back */
	assert_int_equal(check(buf, 2 * ref_len, msg, sizeof(msg)),
	    JCS_ERR_MALFORMED);
	assert_non_null(strstr(msg, "trailing"));
}

/* Rebuilds the reference with the tbsLabel's length in another form. */
static size_t
with_tbs_length(uint8_t *buf, const uint8_t *lenbytes, size_t n)
{
	size_t outer = ref_len - 3 + n - 1;
	size_t o = 0;

	buf[o++] = 0x30;
	buf[o++] = 0x81;
	buf[o++] = (uint8_t)outer;
	buf[o++] = 0x30;
	memcpy(buf + o, lenbytes, n);
	o += n;
	memcpy(buf + o, ref + 5, ref_len - 5);
	return o + ref_len - 5;
}

static void
test_non_der_lengths(void **state)
{
	uint8_t buf[600];
	char msg[512];
	size_t n;
	const uint8_t longform[] = { 0x81, 0x7a };
	const uint8_t padded[] = { 0x82, 0x00, 0x7a };

	(void)state;
	assert_int_equal(ref[4], 0x7a);
	n = with_tbs_length(buf, longform, sizeof(longform));
	assert_int_equal(check(buf, n, msg, sizeof(msg)), JCS_ERR_NOT_DER);
	assert_non_null(strstr(msg, "long form"));
	n = with_tbs_length(buf, padded, sizeof(padded));
	assert_int_equal(check(buf, n, msg, sizeof(msg)), JCS_ERR_NOT_DER);
	assert_non_null(strstr(msg, "leading zero"));

	/* indefinite length (BER) for the outer SEQUENCE */
	buf[0] = 0x30;
	buf[1] = 0x80;
	memcpy(buf + 2, ref + 3, ref_len - 3);
	buf[ref_len - 1] = 0;
	buf[ref_len] = 0;
	assert_int_equal(check(buf, ref_len + 1, msg, sizeof(msg)),
	    JCS_ERR_NOT_DER);
	assert_non_null(strstr(msg, "indefinite"));
}

/* A non-minimal INTEGER (version 02 02 00 00) is refused as not DER. */
static void
test_non_der_integer(void **state)
{
	uint8_t buf[600];
	size_t o = 0;
	char msg[512];
	jcs_err e;

	(void)state;
	buf[o++] = 0x30;
	buf[o++] = 0x81;
	buf[o++] = (uint8_t)(ref[2] + 1);
	buf[o++] = 0x30;
	buf[o++] = (uint8_t)(ref[4] + 1);
	buf[o++] = 0x02;
	buf[o++] = 0x02;
	buf[o++] = 0x00;
	buf[o++] = 0x00;
	memcpy(buf + o, ref + 8, ref_len - 8);
	o += ref_len - 8;
	e = check(buf, o, msg, sizeof(msg));
	if (e != JCS_ERR_NOT_DER && e != JCS_ERR_MALFORMED)
		fail_msg("got %s (%s)", jcs_err_name(e), msg);
	assert_int_not_equal(e, JCS_OK);
}

static void
test_empty_and_garbage(void **state)
{
	char msg[512];
	const uint8_t junk[] = "hello, I am not a label";
	const uint8_t notlabel[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };

	(void)state;
	assert_int_equal(check((const uint8_t *)"", 0, msg, sizeof(msg)),
	    JCS_ERR_MALFORMED);
	assert_non_null(strstr(msg, "empty"));
	assert_int_equal(check(junk, sizeof(junk) - 1, msg, sizeof(msg)),
	    JCS_ERR_MALFORMED);
	assert_non_null(strstr(msg, "neither DER"));
	assert_int_equal(check(notlabel, sizeof(notlabel), msg, sizeof(msg)),
	    JCS_ERR_MALFORMED);
	assert_non_null(strstr(msg, "not a jcstar label"));
}

static void
test_oversized(void **state)
{
	size_t big = 10 * 1024 * 1024;
	uint8_t *buf = calloc(1, big);
	jcs_ctx *ctx = jcs_ctx_new();
	char *dir = tu_tmpdir(), path[4096];

	(void)state;
	assert_non_null(buf);
	buf[0] = 0x30;
	assert_null(jcs_label_parse(ctx, buf, big));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	assert_null(jcs_label_from_der(ctx, buf, big));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	snprintf(path, sizeof(path), "%s/big.der", dir);
	tu_write(path, buf, big);
	assert_null(jcs_label_load_file(ctx, path));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	assert_msg(ctx, "10485760 bytes");
	snprintf(path, sizeof(path), "%s/empty.der", dir);
	tu_write(path, "", 0);
	assert_null(jcs_label_load_file(ctx, path));
	assert_err(ctx, JCS_ERR_MALFORMED);
	snprintf(path, sizeof(path), "%s/missing.der", dir);
	assert_null(jcs_label_load_file(ctx, path));
	assert_err(ctx, JCS_ERR_IO);
	assert_null(jcs_label_load_file(ctx, dir));
	assert_err(ctx, JCS_ERR_IO);
	assert_msg(ctx, "directory");
	free(buf);
	tu_rmrf(dir);
	free(dir);
	jcs_ctx_free(ctx);
}

static void
test_pem(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *l = jcs_label_from_der(ctx, ref, ref_len), *l2;
	char *pem, *bad;
	const char *p;

	(void)state;
	assert_non_null(l);
	pem = jcs_label_to_pem(ctx, l);
	assert_non_null(pem);
	assert_true(strncmp(pem, "-----BEGIN JCSTAR LABEL-----\n", 29) == 0);
	l2 = jcs_label_parse(ctx, (uint8_t *)pem, strlen(pem));
	assert_non_null(l2);
	assert_string_equal(jcs_label_serial_hex(l2), jcs_label_serial_hex(l));
	jcs_label_free(l2);

	/* wrong header */
	bad = strdup(pem);
	memcpy(bad + 11, "CERTIFICAT", 10);
	memcpy(strstr(bad, "-----END ") + 9, "CERTIFICAT", 10);
	assert_null(jcs_label_parse(ctx, (uint8_t *)bad, strlen(bad)));
	assert_err(ctx, JCS_ERR_MALFORMED);
	assert_msg(ctx, "expected 'JCSTAR LABEL'");
	free(bad);

	/* text after the block, and a damaged body */
	bad = malloc(strlen(pem) + 16);
	sprintf(bad, "%sextra", pem);
	assert_null(jcs_label_parse(ctx, (uint8_t *)bad, strlen(bad)));
	assert_msg(ctx, "after the label");
	strcpy(bad, pem);
	p = strchr(bad, '\n') + 5;
	bad[p - bad] = '*';
	assert_null(jcs_label_parse(ctx, (uint8_t *)bad, strlen(bad)));
	assert_err(ctx, JCS_ERR_MALFORMED);
	free(bad);
	jcs_free(pem);
	jcs_label_free(l);
	jcs_ctx_free(ctx);
}

/* Caller-supplied fields are checked before anything is encoded. */
static const struct field_case {
	const char *name;
	int scheme, level;
	const char *reg, *vendor, *model, *unit, *lab;
	const char *nb, *na, *support;
	const char *msg; /* NULL: valid */
} field_cases[] = {
	{ "reference", 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL },
	{ "level 0", 1, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "level 0" },
	{ "level 5", 1, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "level 5" },
	{ "level 4", 1, 4, NULL, NULL, NULL, NULL, "Lab", NULL, NULL, NULL,
	  NULL },
	{ "psti level 2", 3, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, "level 2" },
	{ "cra level 4 names its body", 5, 4, NULL, NULL, NULL, NULL,
	  "Notified Body 1234", NULL, NULL, NULL, NULL },
	{ "cra level 4 without a body", 5, 4, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, "needs a third-party assessment" },
	{ "cra level 1 self-assessed", 5, 1, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL },
	{ "scheme 0", 0, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "unknown scheme" },
	{ "scheme 6", 6, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "unknown scheme" },
	{ "empty reg id", 1, 1, "", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "registration id is empty" },
	{ "reg id space", 1, 1, "JCS 1", NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, "ASCII letters" },
	{ "reg id 33", 1, 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, "at most 32" },
	{ "reg id 32", 1, 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL },
	{ "vendor 65", 1, 1, NULL,
	  "0123456789012345678901234567890123456789012345678901234567890123X",
	  NULL, NULL, NULL, NULL, NULL, NULL, "vendor is 65 bytes" },
	{ "vendor overlong utf8", 1, 1, NULL, "A\xc0\xaf", NULL, NULL, NULL,
	  NULL, NULL, NULL, "not valid UTF-8" },
	{ "vendor surrogate", 1, 1, NULL, "A\xed\xa0\x80", NULL, NULL, NULL,
	  NULL, NULL, NULL, "not valid UTF-8" },
	{ "vendor control", 1, 1, NULL, "A\tB", NULL, NULL, NULL, NULL, NULL,
	  NULL, "control character" },
	{ "vendor japanese", 1, 1, NULL,
	  "\xe6\xa0\xaa\xe5\xbc\x8f\xe4\xbc\x9a\xe7\xa4\xbe", NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL },
	{ "model spaces", 1, 1, NULL, NULL, " HR", NULL, NULL, NULL, NULL,
	  NULL, "white space" },
	{ "unit serial bad", 1, 1, NULL, NULL, NULL, "SN 1", NULL, NULL, NULL,
	  NULL, "unit serial may hold only" },
	{ "empty lab", 1, 3, NULL, NULL, NULL, NULL, "", NULL, NULL, NULL,
	  "lab is empty" },
	{ "star 3 self-declared", 1, 3, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, "needs a third-party assessment" },
	{ "cls 3 self-declared (the CLS profile)", 2, 3, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, "needs a third-party assessment" },
	{ "cls 2 self-declared", 2, 2, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL },
	{ "ideographic space at end", 1, 1, NULL,
	  "\xe6\xa0\xaa\xe5\xbc\x8f\xe3\x80\x80", NULL, NULL, NULL, NULL,
	  NULL, NULL, "white space" },
	{ "no-break space at start", 1, 1, NULL, "\xc2\xa0Vendor", NULL, NULL,
	  NULL, NULL, NULL, NULL, "white space" },
	{ "right-to-left override", 1, 1, NULL, "A\xe2\x80\xae" "B", NULL, NULL,
	  NULL, NULL, NULL, NULL, "not valid UTF-8 text" },
	{ "zero-width space", 1, 1, NULL, NULL, "HR\xe2\x80\x8b" "1", NULL, NULL,
	  NULL, NULL, NULL, "not valid UTF-8 text" },
	{ "inner ideographic space is fine", 1, 1, NULL,
	  "A\xe3\x80\x80" "B", NULL, NULL, NULL, NULL, NULL, NULL, NULL },
	{ "reversed validity", 1, 1, NULL, NULL, NULL, NULL, NULL,
	  "2027-01-01", "2026-01-01", NULL, "ends before it starts" },
	{ "support not a date", 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  "2030-03-31T12:00:00Z", "must be a date" },
};

static void
test_field_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]);
	    i++) {
		const struct field_case *c = &field_cases[i];
		jcs_label_fields f = tu_ref_fields();
		jcs_ctx *ctx = jcs_ctx_new();
		jcs_label *l;

		f.scheme = c->scheme;
		f.level = c->level;
		if (c->reg != NULL)
			f.product.reg_id = c->reg;
		if (c->vendor != NULL)
			f.product.vendor = c->vendor;
		if (c->model != NULL)
			f.product.model = c->model;
		f.product.unit_serial = c->unit;
		f.lab = c->lab;
		if (c->nb != NULL)
			f.not_before = tu_time(c->nb);
		if (c->na != NULL)
			f.not_after = tu_time(c->na);
		if (c->support != NULL)
			f.support_until = tu_time(c->support);
		l = jcs_label_new(ctx, &f);
		if (c->msg == NULL && l == NULL)
			fail_msg("%s: refused: %s", c->name,
			    jcs_ctx_message(ctx));
		if (c->msg != NULL) {
			if (l != NULL)
				fail_msg("%s: accepted", c->name);
			assert_err(ctx, JCS_ERR_INVALID_ARG);
			if (strstr(jcs_ctx_message(ctx), c->msg) == NULL)
				fail_msg("%s: message '%s' lacks '%s'",
				    c->name, jcs_ctx_message(ctx), c->msg);
		}
		jcs_label_free(l);
		jcs_ctx_free(ctx);
	}
}

static void
test_random_serials(void **state)
{
	jcs_label_fields f = tu_ref_fields();
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *a = jcs_label_new(ctx, &f), *b = jcs_label_new(ctx, &f);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	/* 9 bytes = 18 hex digits, first byte 01..7f: positive */
	assert_int_equal(strlen(jcs_label_serial_hex(a)), 18);
	assert_true(jcs_label_serial_hex(a)[0] <= '7');
	assert_string_not_equal(jcs_label_serial_hex(a),
	    jcs_label_serial_hex(b));
	/* unsigned labels have no encoding */
	assert_null(jcs_label_der(a, NULL));
	assert_null(jcs_label_to_pem(ctx, a));
	assert_int_equal(jcs_label_write_file(ctx, a, "/nonexistent/x.der"),
	    -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	/* bad explicit serials */
	assert_int_equal(jcs_label_set_serial(ctx, a,
	    (const uint8_t *)"\x80\1\2\3\4\5\6\7\x08", 9), -1);
	assert_int_equal(jcs_label_set_serial(ctx, a,
	    (const uint8_t *)"\1\2\3\4\5\6\7\x08", 8), -1);
	jcs_label_free(a);
	jcs_label_free(b);
	jcs_label_free(NULL);
	jcs_ctx_free(ctx);
}

static void
test_extensions(void **state)
{
	jcs_label_fields f = tu_ref_fields();
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *k = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	jcs_verify_opts o = { .at = tu_time("2026-01-01") };
	const char *oid = JCS_OID_EXT_ARC ".99";
	jcs_label *l, *back;
	const uint8_t *der;
	size_t len;
	int crit = -1;

	(void)state;
	assert_non_null(k);
	/* non-critical unknown extension: ignored, label valid */
	l = jcs_label_new(ctx, &f);
	assert_int_equal(jcs_label_add_extension(ctx, l, oid, 0,
	    (const uint8_t *)"\x05\x00", 2), 0);
	assert_int_equal(jcs_label_add_extension(ctx, l, oid, 1,
	    (const uint8_t *)"\x05\x00", 2), -1);
	assert_msg(ctx, "appears twice");
	assert_int_equal(jcs_label_extension_count(l), 1);
	assert_int_equal(jcs_label_add_extension(ctx, l, "not.an.oid", 0,
	    NULL, 0), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	der = jcs_label_der(l, &len);
	back = jcs_label_from_der(ctx, der, len);
	assert_non_null(back);
	assert_int_equal(jcs_label_extension_count(back), 1);
	assert_string_equal(jcs_label_extension(back, 0, &crit), oid);
	assert_int_equal(crit, 0);
	assert_null(jcs_label_extension(back, 1, &crit));
	assert_int_equal(jcs_verify(ctx, trust, back, &o, NULL), 0);
	jcs_label_free(back);
	jcs_label_free(l);

	/* critical unknown extension: the verifier must refuse */
	l = jcs_label_new(ctx, &f);
	assert_int_equal(jcs_label_add_extension(ctx, l, oid, 1,
	    (const uint8_t *)"\x05\x00", 2), 0);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	assert_int_equal(jcs_verify(ctx, trust, l, &o, NULL), -1);
	assert_err(ctx, JCS_ERR_UNKNOWN_CRITICAL);
	assert_msg(ctx, oid);
	jcs_label_free(l);
	jcs_key_free(k);
	jcs_ctx_free(ctx);
}

/* An explicitly encoded critical FALSE (a DEFAULT value) is not DER. */
static void
test_default_encoded(void **state)
{
	jcs_label_fields f = tu_ref_fields();
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *k = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	jcs_label *l = jcs_label_new(ctx, &f);
	uint8_t buf[600];
	const uint8_t *der;
	size_t len, i, o;
	char msg[512];

	(void)state;
	assert_int_equal(jcs_label_add_extension(ctx, l, "1.2.3", 0,
	    (const uint8_t *)"\x05\x00", 2), 0);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	der = jcs_label_der(l, &len);
	/* find the extension's OID 06 02 2a 03, insert 01 01 00 after it and
	 * fix the four enclosing lengths */
	for (i = 0; i + 4 <= len; i++)
		if (memcmp(der + i, "\x06\x02\x2a\x03", 4) == 0)
			break;
	assert_true(i + 4 <= len);
	assert_int_equal(der[1], 0x81);
	o = 0;
	memcpy(buf, der, i + 4);
	o = i + 4;
	memcpy(buf + o, "\x01\x01\x00", 3);
	o += 3;
	memcpy(buf + o, der + i + 4, len - i - 4);
	o += len - i - 4;
	buf[2] = (uint8_t)(buf[2] + 3);  /* Label */
	assert_int_equal(der[4], 0x81);  /* tbsLabel is now > 127 bytes */
	buf[5] = (uint8_t)(buf[5] + 3);
	buf[i - 3] = (uint8_t)(buf[i - 3] + 3); /* [1] extensions */
	buf[i - 1] = (uint8_t)(buf[i - 1] + 3); /* Extension */
	assert_int_equal(check(buf, o, msg, sizeof(msg)), JCS_ERR_NOT_DER);
	assert_non_null(strstr(msg, "not strict DER"));
	jcs_label_free(l);

	/* critical TRUE encoded as 0x01 instead of 0xff */
	l = jcs_label_new(ctx, &f);
	assert_int_equal(jcs_label_add_extension(ctx, l, "1.2.3", 1,
	    (const uint8_t *)"\x05\x00", 2), 0);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	der = jcs_label_der(l, &len);
	memcpy(buf, der, len);
	for (i = 0; i + 7 <= len; i++)
		if (memcmp(buf + i, "\x06\x02\x2a\x03\x01\x01\xff", 7) == 0)
			break;
	assert_true(i + 7 <= len);
	buf[i + 6] = 0x01;
	assert_int_equal(check(buf, len, msg, sizeof(msg)), JCS_ERR_NOT_DER);
	assert_non_null(strstr(msg, "critical TRUE as 0x01"));
	jcs_label_free(l);
	jcs_key_free(k);
	jcs_ctx_free(ctx);
}

/* An extension value over 256 octets is refused on decode (the encoder
 * refuses it too, so the test builds the DER by hand). */
static void
test_extension_value_cap(void **state)
{
	jcs_label_fields f = tu_ref_fields();
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *k = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	jcs_label *l = jcs_label_new(ctx, &f);
	uint8_t val[256], buf[1024];
	const uint8_t *der;
	size_t len, i, o, grow = 44;
	char msg[512];

	(void)state;
	memset(val, 'A', sizeof(val));
	assert_int_equal(jcs_label_add_extension(ctx, l, "1.2.3", 0, val,
	    sizeof(val) + 1), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_int_equal(jcs_label_add_extension(ctx, l, "1.2.3", 0, val,
	    sizeof(val)), 0);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	der = jcs_label_der(l, &len);
	/* Label, tbsLabel, [1], Extension and the OCTET STRING all have
	 * two-byte lengths (82 hi lo): grow each by 44 and append 44 'A' */
	for (i = 0; i + 4 <= len; i++)
		if (memcmp(der + i, "\x04\x82\x01\x00", 4) == 0)
			break;
	assert_true(i + 4 <= len);
	o = 0;
	memcpy(buf, der, i + 4 + 256);
	o = i + 4 + 256;
	memset(buf + o, 'A', grow);
	o += grow;
	memcpy(buf + o, der + i + 4 + 256, len - i - 4 - 256);
	o += len - i - 4 - 256;
	{
		size_t at[4] = { 0, 4, 0, 0 };

		/* the [1] and Extension headers sit just before the OID */
		for (size_t j = 0; j + 4 <= i; j++)
			if (buf[j] == 0xa1 && buf[j + 1] == 0x82 &&
			    buf[j + 4] == 0x30 && buf[j + 5] == 0x82) {
				at[2] = j;
				at[3] = j + 4;
			}
		assert_true(at[2] != 0);
		for (int m = 0; m < 4; m++) {
			unsigned v = (unsigned)buf[at[m] + 2] << 8 |
			    buf[at[m] + 3];

			assert_int_equal(buf[at[m] + 1], 0x82);
			v += (unsigned)grow;
			buf[at[m] + 2] = (uint8_t)(v >> 8);
			buf[at[m] + 3] = (uint8_t)v;
		}
		buf[i + 2] = 0x01;
		buf[i + 3] = (uint8_t)(256 + grow - 256);
	}
	assert_int_equal(check(buf, o, msg, sizeof(msg)), JCS_ERR_MALFORMED);
	assert_non_null(strstr(msg, "value is 300 bytes; at most 256"));
	jcs_label_free(l);
	jcs_key_free(k);
	jcs_ctx_free(ctx);
}

/* The batch signer (jcs_label_signer_*): the bytes jcs_label_sign gives
 * for the same fields and serial (Ed25519 signatures are deterministic;
 * ECDSA ones are checked by verification), strict DER, the unit and the
 * validity of each call, and a fresh serial every time. */
static void
test_batch_signer(void **state)
{
	const char *dirs[2] = { "ca-ed25519", "ca-p256" };
	const char *trusts[2] = { "tests/vectors/trust-ed25519.pem",
		"tests/vectors/trust-p256.pem" };

	(void)state;
	for (int a = 0; a < 2; a++) {
		jcs_ctx *ctx = jcs_ctx_new();
		char path[256];
		jcs_key *key;
		jcs_trust *tr = jcs_trust_load_file(ctx, tu_src(trusts[a]));
		jcs_label_fields f = tu_ref_fields();
		struct jcs_label_signer *s;
		char last[41] = "";
		const char *units[3] = { "SN-1", NULL, "SN/000003" };

		snprintf(path, sizeof(path), "tests/vectors/%s/signers/0001.key",
		    dirs[a]);
		key = jcs_key_load(ctx, tu_src(path), NULL);
		assert_non_null(key);
		assert_non_null(tr);
		s = jcs_label_signer_new(ctx, &f, key);
		assert_non_null(s);
		for (int i = 0; i < 3; i++) {
			jcs_label_fields g = f;
			uint8_t *der;
			size_t len, len2;
			char serial[41];
			jcs_label *l, *again;
			const uint8_t *der2;
			jcs_verify_opts vo;

			g.product.unit_serial = units[i];
			g.not_before = f.not_before + i * 86400;
			g.not_after = f.not_after - i * 86400;
			assert_int_equal(jcs_label_signer_sign(ctx, s, &g, &der,
			    &len, serial), 0);
			l = jcs_label_from_der(ctx, der, len);
			if (l == NULL)
				fail_msg("%s: %s", dirs[a],
				    jcs_ctx_message(ctx));
			assert_string_equal(jcs_label_serial_hex(l), serial);
			assert_string_not_equal(serial, last);
			snprintf(last, sizeof(last), "%s", serial);
			if (units[i] == NULL)
				assert_null(jcs_label_get_fields(l)->
				    product.unit_serial);
			else
				assert_string_equal(jcs_label_get_fields(l)->
				    product.unit_serial, units[i]);
			assert_int_equal(jcs_label_get_fields(l)->not_before,
			    g.not_before);
			assert_int_equal(jcs_label_get_fields(l)->not_after,
			    g.not_after);
			memset(&vo, 0, sizeof(vo));
			vo.at = tu_time("2026-01-01");
			if (jcs_verify(ctx, tr, l, &vo, NULL) != 0)
				fail_msg("%s: %s", dirs[a],
				    jcs_ctx_message(ctx));
			/* the ordinary signing of the same label */
			again = jcs_label_from_der(ctx, der, len);
			assert_int_equal(jcs_label_sign(ctx, again, key), 0);
			der2 = jcs_label_der(again, &len2);
			if (a == 0) {
				assert_int_equal(len, len2);
				assert_memory_equal(der, der2, len);
			}
			jcs_label_free(again);
			jcs_label_free(l);
			free(der);
		}
		/* serials over several refills of the signer's store of
		 * random bytes: all distinct, 18 hex digits; with a first
		 * byte set, every serial starts with it (out of range: drawn
		 * per label again) */
		{
			static char seen[300][41];
			const int firsts[3] = { 0x2a, 0, 0x80 };

			for (int k = 0; k < 300; k++) {
				jcs_label_fields g = f;
				uint8_t *der;
				size_t len;
				char want[3];

				jcs_label_signer_set_serial_first(s,
				    firsts[k / 100]);
				g.product.unit_serial = "SN-2";
				assert_int_equal(jcs_label_signer_sign(ctx, s,
				    &g, &der, &len, seen[k]), 0);
				free(der);
				assert_int_equal(strlen(seen[k]), 18);
				if (firsts[k / 100] == 0x2a)
					assert_memory_equal(seen[k], "2a", 2);
				snprintf(want, sizeof(want), "%.2s", seen[k]);
				assert_true(strtol(want, NULL, 16) >= 1 &&
				    strtol(want, NULL, 16) <= 0x7f);
				for (int m = 0; m < k; m++)
					assert_string_not_equal(seen[m],
					    seen[k]);
			}
			/* drawn per label: not all 100 alike */
			{
				int same = 1;

				for (int k = 101; k < 200; k++)
					same &= strncmp(seen[k], seen[100],
					    2) == 0;
				assert_false(same);
			}
		}
		/* a unit serial the format refuses */
		{
			jcs_label_fields g = f;
			uint8_t *der;
			size_t len;
			char serial[41];

			g.product.unit_serial = "SN 1";
			assert_int_equal(jcs_label_signer_sign(ctx, s, &g, &der,
			    &len, serial), -1);
			assert_err(ctx, JCS_ERR_INVALID_ARG);
			assert_null(der);
		}
		jcs_label_signer_free(s);
		jcs_label_signer_free(NULL);
		/* fields the format refuses are refused at once */
		f.product.vendor = "";
		assert_null(jcs_label_signer_new(ctx, &f, key));
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		jcs_trust_free(tr);
		jcs_key_free(key);
		jcs_ctx_free(ctx);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_valid),
		cmocka_unit_test(test_reference_layout),
		cmocka_unit_test(test_field_flips),
		cmocka_unit_test(test_every_bit_flip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_non_der_lengths),
		cmocka_unit_test(test_non_der_integer),
		cmocka_unit_test(test_empty_and_garbage),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_field_rules),
		cmocka_unit_test(test_random_serials),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_default_encoded),
		cmocka_unit_test(test_extension_value_cap),
		cmocka_unit_test(test_batch_signer),
	};

	return cmocka_run_group_tests_name("label", tests, setup, teardown);
}
