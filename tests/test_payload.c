/* test_payload.c - payload forms (Base45, digit groups, URLs) and QR
 * encoding of them. */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "testutil.h"

#define BASE "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/" /* 32 characters */
/* 102 digits: six full 17-digit groups */
#define D100 "000000000000000000000000000000000000000000000000000" \
    "000000000000000000000000000000000000000000000000000"

/* RFC 9285, section 4.3 and 4.4 */
static const struct {
	const char *bytes, *b45;
} rfc_vectors[] = {
	{ "AB", "BB8" },
	{ "Hello!!", "%69 VD92EX0" },
	{ "base-45", "UJCLQE7W581" },
	{ "ietf!", "QED8WEX0" },
	{ "", "" },
};

static void
test_base45_rfc(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char out[64];
	uint8_t back[64];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]);
	    i++) {
		size_t len = strlen(rfc_vectors[i].bytes);

		jcs_base45_encode((const uint8_t *)rfc_vectors[i].bytes, len,
		    out);
		assert_string_equal(out, rfc_vectors[i].b45);
		assert_int_equal(jcs_base45_encoded_len(len), strlen(out));
		assert_int_equal(jcs_base45_decode(ctx, rfc_vectors[i].b45,
		    strlen(rfc_vectors[i].b45), back, &n, 0), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, rfc_vectors[i].bytes, len);
	}
	/* RFC 9285 4.4: "GGW" is 65536+, an invalid group */
	assert_int_equal(jcs_base45_decode(ctx, "GGW", 3, back, &n, 0), -1);
	assert_err(ctx, JCS_ERR_BAD_PAYLOAD);
	assert_msg(ctx, "out of range");
	jcs_ctx_free(ctx);
}

static void
test_digits(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const uint8_t ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff };
	char out[64];
	uint8_t back[64];
	size_t n;

	(void)state;
	jcs_digits_encode(ff, 7, out);
	assert_string_equal(out, "72057594037927935"); /* 2^56 - 1 */
	jcs_digits_encode(ff, 1, out);
	assert_string_equal(out, "255");
	jcs_digits_encode((const uint8_t *)"\0\1", 2, out);
	assert_string_equal(out, "00001");
	jcs_digits_encode(ff, 8, out);
	assert_string_equal(out, "72057594037927935255");
	assert_int_equal(jcs_digits_decode(ctx, out, strlen(out), back, &n,
	    0), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(back, ff, 8);
	{
		static const size_t last[7] = { 0, 3, 5, 8, 10, 13, 15 };

		for (size_t k = 0; k <= 14; k++)
			assert_int_equal(jcs_digits_encoded_len(k),
			    k / 7 * 17 + last[k % 7]);
	}
	/* group out of range: 256 in a 1-byte group */
	assert_int_equal(jcs_digits_decode(ctx, "256", 3, back, &n, 0), -1);
	assert_err(ctx, JCS_ERR_BAD_PAYLOAD);
	assert_msg(ctx, "out of range");
	/* 4 digits: no group has 4 */
	assert_int_equal(jcs_digits_decode(ctx, "1234", 4, back, &n, 0), -1);
	assert_msg(ctx, "the last group has 4 digits");
	jcs_ctx_free(ctx);
}

static void
test_round_trips(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	uint8_t buf[JCS_LABEL_MAX_DER];

	(void)state;
	for (size_t len = 1; len <= 700; len += (len < 40 ? 1 : 13)) {
		for (int form = JCS_FORM_URL; form <= JCS_FORM_BARE; form++) {
			char *text;
			uint8_t *back;
			size_t n;
			int f;

			assert_int_equal(RAND_bytes(buf, (int)len), 1);
			text = jcs_payload_encode(ctx, buf, len, form, BASE);
			assert_non_null(text);
			if (form == JCS_FORM_URL &&
			    jcs_digits_encoded_len(len) < 100) {
				/* too short to be a label: some other URL */
				assert_int_equal(jcs_payload_decode(ctx, text,
				    strlen(text), &back, &n, &f), -1);
				assert_err(ctx, JCS_ERR_NOT_PAYLOAD);
				jcs_free(text);
				continue;
			}
			assert_int_equal(jcs_payload_decode(ctx, text,
			    strlen(text), &back, &n, &f), 0);
			assert_int_equal(f, form);
			assert_int_equal(n, len);
			assert_memory_equal(back, buf, len);
			jcs_free(back);
			jcs_free(text);
		}
	}
	jcs_ctx_free(ctx);
}

/* Damaged and foreign payloads, each with its specific error. */
static const struct bad_case {
	const char *name;
	const char *text;
	jcs_err want;
	const char *msg;
} bad_cases[] = {
	{ "empty", "", JCS_ERR_NOT_PAYLOAD, "empty" },
	{ "plain words", "HELLO WORLD", JCS_ERR_NOT_PAYLOAD,
	  "not a jcstar payload" },
	{ "other URL", "https://example.com/page", JCS_ERR_NOT_PAYLOAD,
	  "not label digits" },
	{ "URL without path", "HTTPS://VERIFY.EXAMPLE", JCS_ERR_NOT_PAYLOAD,
	  "without a label path" },
	{ "URL ends in slash", BASE, JCS_ERR_NOT_PAYLOAD, "no label digits" },
	{ "odd digit count", BASE D100 "1234", JCS_ERR_BAD_PAYLOAD,
	  "the last group has 4 digits" },
	{ "digit group too big", BASE D100 "999", JCS_ERR_BAD_PAYLOAD,
	  "out of range" },
	{ "letter in digits", BASE "12A45" D100, JCS_ERR_BAD_PAYLOAD,
	  "position 34 is not a digit" },
	{ "a web page with a number", "https://example.com/p/42",
	  JCS_ERR_NOT_PAYLOAD, "too few to hold a label" },
	{ "escape codes in the address", "https://evil\x1b[2J/" D100 D100,
	  JCS_ERR_NOT_PAYLOAD, "0x1b at position 12" },
	{ "space in the address", "HTTPS://A B/" D100 D100,
	  JCS_ERR_NOT_PAYLOAD, "0x20 at position 9" },
	{ "lower-case prefix", "jcs1:BB8", JCS_ERR_BAD_PAYLOAD,
	  "must be upper case" },
	{ "mixed-case prefix", "Jcs1:BB8", JCS_ERR_BAD_PAYLOAD,
	  "must be upper case" },
	{ "lower-case Base45", "JCS1:BB8bb8", JCS_ERR_BAD_PAYLOAD,
	  "lower-case 'b' at position 8" },
	{ "bad Base45 triple", "JCS1:GGW", JCS_ERR_BAD_PAYLOAD,
	  "group 'GGW' at position 5 is out of range" },
	{ "bad Base45 pair", "JCS1:::", JCS_ERR_BAD_PAYLOAD,
	  "out of range" },
	{ "Base45 length 3k+1", "JCS1:BB8B", JCS_ERR_BAD_PAYLOAD,
	  "impossible" },
	{ "not Base45", "JCS1:BB#", JCS_ERR_BAD_PAYLOAD,
	  "0x23 at position 7 is not Base45" },
	{ "empty Base45", "JCS1:", JCS_ERR_BAD_PAYLOAD, "no label bytes" },
	/* a trimmed trailing space changes the length: never trimmed */
	{ "space is a digit", "JCS1:BB8 ", JCS_ERR_BAD_PAYLOAD,
	  "impossible" },
};

static void
test_bad_payloads(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		uint8_t *der = (uint8_t *)"x";
		size_t n = 99;

		if (jcs_payload_decode(ctx, c->text, strlen(c->text), &der, &n,
		    NULL) != -1)
			fail_msg("%s: accepted", c->name);
		if (jcs_ctx_error(ctx) != c->want ||
		    strstr(jcs_ctx_message(ctx), c->msg) == NULL)
			fail_msg("%s: got %s '%s'", c->name,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
		assert_null(der);
		assert_int_equal(n, 0);
		assert_true(jcs_err_is_verdict(c->want));
	}
	{
		char *big = malloc(JCS_PAYLOAD_MAX + 2);
		uint8_t *der;
		size_t n;

		memset(big, '1', JCS_PAYLOAD_MAX + 1);
		memcpy(big, BASE, strlen(BASE));
		big[JCS_PAYLOAD_MAX + 1] = '\0';
		assert_int_equal(jcs_payload_decode(ctx, big,
		    JCS_PAYLOAD_MAX + 1, &der, &n, NULL), -1);
		assert_err(ctx, JCS_ERR_TOO_LARGE);
		/* a NUL inside */
		assert_int_equal(jcs_payload_decode(ctx, "JCS1:B\0B8", 9, &der,
		    &n, NULL), -1);
		assert_err(ctx, JCS_ERR_NOT_PAYLOAD);
		/* within the text limit, but more bytes than any label (found
		 * by fuzz_payload): 2232 bytes from 5423 digits */
		memset(big, '0', JCS_PAYLOAD_MAX + 1);
		memcpy(big, BASE, strlen(BASE));
		big[strlen(BASE)] = '1';
		big[strlen(BASE) + (JCS_LABEL_MAX_DER + 184) / 7 * 17] = '\0';
		assert_int_equal(jcs_payload_decode(ctx, big, strlen(big), &der,
		    &n, NULL), -1);
		assert_err(ctx, JCS_ERR_TOO_LARGE);
		assert_msg(ctx, "a label is at most 2048");
		assert_int_equal(n, 0);
		/* the bare form too: 2049 bytes of Base45 */
		{
			uint8_t raw[JCS_LABEL_MAX_DER + 1];
			char *text;

			memset(raw, 0x41, sizeof(raw));
			text = jcs_payload_encode(ctx, raw, sizeof(raw),
			    JCS_FORM_BARE, NULL);
			/* encode refuses it too */
			assert_null(text);
		}
		free(big);
	}
	jcs_ctx_free(ctx);
}

static const struct url_case {
	const char *url;
	const char *msg; /* NULL: valid */
} url_cases[] = {
	{ BASE, NULL },
	{ "HTTPS://A.B/", NULL },
	{ "HTTPS://VERIFY.EXAMPLE:8443/X/Y/", NULL },
	{ "https://verify.example/l/", "upper-case HTTPS://" },
	{ "HTTP://VERIFY.EXAMPLE/L/", "upper-case HTTPS://" },
	{ "HTTPS://VERIFY.EXAMPLE/L", "must end in '/'" },
	{ "HTTPS:///L/", "needs a host" },
	{ "HTTPS://VERIFY.EXAMPLE/l/", "'l' at position 23" },
	{ "HTTPS://VERIFY EXAMPLE/L/", "' ' at position 14" },
	{ "HTTPS://VERIFY.EXAMPLE/%41/", "'%' at position 23" },
	{ "", "no verifier base URL" },
	{ "HTTPS://AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/", "at most 96" },
};

static void
test_base_urls(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		int rc = jcs_base_url_check(ctx, url_cases[i].url);

		if (url_cases[i].msg == NULL && rc != 0)
			fail_msg("'%s' refused: %s", url_cases[i].url,
			    jcs_ctx_message(ctx));
		if (url_cases[i].msg != NULL && (rc != -1 ||
		    strstr(jcs_ctx_message(ctx), url_cases[i].msg) == NULL))
			fail_msg("'%s': got '%s'", url_cases[i].url,
			    jcs_ctx_message(ctx));
	}
	assert_null(jcs_payload_encode(ctx, (const uint8_t *)"x", 1,
	    JCS_FORM_URL, NULL));
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_null(jcs_payload_encode(ctx, (const uint8_t *)"x", 1, 9, BASE));
	assert_int_equal(jcs_form_from_name("url"), JCS_FORM_URL);
	assert_int_equal(jcs_form_from_name("bare"), JCS_FORM_BARE);
	assert_int_equal(jcs_form_from_name("URL"), 0);
	jcs_ctx_free(ctx);
}

/* Issue 3: the reference label fits QR version 11 or smaller at level M in
 * both forms, with a 32-character base URL; and the payload verifies. */
static void
test_reference_qr(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *l = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));
	jcs_trust *t = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_verify_opts vo = { .at = tu_time("2026-01-01") };
	const uint8_t *der;
	size_t len;

	(void)state;
	assert_int_equal(strlen(BASE), 32);
	der = jcs_label_der(l, &len);
	for (int form = JCS_FORM_URL; form <= JCS_FORM_BARE; form++) {
		char *text = jcs_payload_encode(ctx, der, len, form, BASE);
		jcs_qr *qr = jcs_qr_encode(ctx, text, JCS_QR_EC_M);
		jcs_label *back;

		assert_non_null(qr);
		if (jcs_qr_version(qr) > 11)
			fail_msg("form %d needs QR version %d", form,
			    jcs_qr_version(qr));
		assert_int_equal(jcs_qr_width(qr), 17 + 4 *
		    jcs_qr_version(qr));
		/* finder pattern corners are dark, the separator light */
		assert_int_equal(jcs_qr_module(qr, 0, 0), 1);
		assert_int_equal(jcs_qr_module(qr, 7, 7), 0);
		assert_int_equal(jcs_qr_module(qr, -1, 0), 0);
		back = jcs_label_from_payload(ctx, text, strlen(text));
		assert_non_null(back);
		assert_int_equal(jcs_verify(ctx, t, back, &vo, NULL), 0);
		jcs_label_free(back);
		jcs_qr_free(qr);
		jcs_free(text);
	}
	/* a higher level needs a bigger code; every level is accepted */
	{
		char *text = jcs_payload_encode(ctx, der, len, JCS_FORM_BARE,
		    NULL);
		jcs_qr *m = jcs_qr_encode(ctx, text, JCS_QR_EC_M);
		jcs_qr *h = jcs_qr_encode(ctx, text, JCS_QR_EC_H);

		assert_true(jcs_qr_version(h) > jcs_qr_version(m));
		assert_null(jcs_qr_encode(ctx, "lower case", JCS_QR_EC_M));
		assert_err(ctx, JCS_ERR_INVALID_ARG);
		assert_null(jcs_qr_encode(ctx, text, 9));
		assert_int_equal(jcs_qr_ec_from_name("q"), JCS_QR_EC_Q);
		assert_int_equal(jcs_qr_ec_from_name("X"), 0);
		jcs_qr_free(m);
		jcs_qr_free(h);
		jcs_qr_free(NULL);
		jcs_free(text);
	}
	jcs_label_free(l);
	jcs_trust_free(t);
	jcs_ctx_free(ctx);
}

/* A payload too big for any QR code. */
static void
test_qr_too_large(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char *big = malloc(5000);

	(void)state;
	memset(big, 'A', 4999);
	big[4999] = '\0';
	assert_null(jcs_qr_encode(ctx, big, JCS_QR_EC_H));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	free(big);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base45_rfc),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_bad_payloads),
		cmocka_unit_test(test_base_urls),
		cmocka_unit_test(test_reference_qr),
		cmocka_unit_test(test_qr_too_large),
	};

	return cmocka_run_group_tests_name("payload", tests, NULL, NULL);
}
