/* test_util.c - times, UTF-8, the DER walk, errors, schemes. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testutil.h"

static const struct time_case {
	const char *text;
	time_t want; /* -1: rejected */
} time_cases[] = {
	{ "1970-01-01", -1 },           /* 0 means "not set" in the API */
	{ "1970-01-01T00:00:01Z", 1 },
	{ "2026-01-01", 1767225600 },
	{ "2026-01-01T00:00:00Z", 1767225600 },
	{ "2030-03-31", 1901145600 },
	{ "2028-02-29", 1835395200 },
	{ "2027-02-29", -1 },           /* not a leap year */
	{ "2026-04-31", -1 },
	{ "2026-13-01", -1 },
	{ "2026-00-10", -1 },
	{ "1969-12-31", -1 },
	{ "2026-01-01T24:00:00Z", -1 },
	{ "2026-01-01T00:00:00", -1 },  /* no zone */
	{ "2026-01-01T00:00:00+09:00", -1 },
	{ "2026-1-1", -1 },
	{ "26-01-01", -1 },
	{ "", -1 },
	{ "tomorrow", -1 },
	{ "2026-01-01 00:00:00Z", -1 },
};

static void
test_time_parse(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]);
	    i++) {
		time_t t = 12345;
		int rc = jcs_time_parse(ctx, time_cases[i].text, &t);

		if (time_cases[i].want == -1) {
			if (rc != -1)
				fail_msg("'%s' accepted", time_cases[i].text);
			assert_err(ctx, JCS_ERR_INVALID_ARG);
			assert_msg(ctx, "is not a date");
		} else {
			if (rc != 0 || t != time_cases[i].want)
				fail_msg("'%s': rc %d t %lld", time_cases[i].text,
				    rc, (long long)t);
		}
	}
	assert_int_equal(jcs_time_parse(ctx, NULL, NULL), -1);
	assert_string_equal(jcs_time_format(1767225600, buf, sizeof(buf)),
	    "2026-01-01T00:00:00Z");
	assert_string_equal(jcs_date_format(1901145600, buf, sizeof(buf)),
	    "2030-03-31");
	assert_int_equal(jcs_add_years(tu_time("2024-02-29"), 2),
	    tu_time("2026-03-01"));
	assert_int_equal(jcs_add_years(tu_time("2025-04-01"), 2),
	    tu_time("2027-04-01"));
	jcs_ctx_free(ctx);
}

static const struct utf8_case {
	const char *s;
	int ok;
	size_t bad;
} utf8_cases[] = {
	{ "plain ASCII", 1, 0 },
	{ "\xe2\x98\x85 star", 1, 0 },
	{ "\xf0\x9f\x94\x92", 1, 0 },            /* U+1F512 */
	{ "\xe6\x97\xa5\xe6\x9c\xac", 1, 0 },    /* Japanese */
	{ "a\x80", 0, 1 },                      /* lone continuation */
	{ "ab\xc3", 0, 2 },                     /* truncated sequence */
	{ "\xc0\x80", 0, 0 },                   /* overlong NUL */
	{ "\xe0\x80\xaf", 0, 0 },               /* overlong */
	{ "\xed\xa0\x80", 0, 0 },               /* surrogate */
	{ "\xf4\x90\x80\x80", 0, 0 },           /* beyond U+10FFFF */
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "tab\there", 0, 3 },
	{ "del\x7f", 0, 3 },
	{ "c1\xc2\x85", 0, 2 },                 /* U+0085 NEL */
	{ "bidi\xe2\x80\xae", 0, 4 },           /* U+202E RLO */
	{ "bom\xef\xbb\xbf", 0, 3 },            /* U+FEFF */
	{ "zw\xe2\x80\x8d", 0, 2 },             /* U+200D ZWJ */
};

static void
test_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	    i++) {
		size_t bad = 999;
		int rc = jcs_utf8_check(utf8_cases[i].s,
		    strlen(utf8_cases[i].s), &bad);

		if ((rc == 0) != utf8_cases[i].ok)
			fail_msg("case %zu: rc %d", i, rc);
		if (!utf8_cases[i].ok && bad != utf8_cases[i].bad)
			fail_msg("case %zu: bad at %zu, want %zu", i, bad,
			    utf8_cases[i].bad);
	}
}

static const struct der_case {
	const char *name;
	const char *bytes;
	size_t len;
	jcs_err want;
	const char *msg;
	int rules;                /* JCS_DER_ANY or JCS_DER_LABEL */
} der_cases[] = {
	{ "ok", "\x30\x03\x02\x01\x05", 5, JCS_OK, NULL, JCS_DER_ANY },
	{ "empty", "", 0, JCS_ERR_MALFORMED, "empty", JCS_DER_ANY },
	{ "not a sequence", "\x02\x01\x05", 3, JCS_ERR_MALFORMED,
	  "0x02", JCS_DER_ANY },
	{ "no length", "\x30", 1, JCS_ERR_TRUNCATED, "truncated", JCS_DER_ANY },
	{ "short", "\x30\x05\x02\x01\x05", 5, JCS_ERR_TRUNCATED,
	  "truncated at byte 5 of 7", JCS_DER_ANY },
	{ "cut length", "\x30\x82\x01", 3, JCS_ERR_TRUNCATED,
	  "truncated", JCS_DER_ANY },
	{ "indefinite", "\x30\x80\x02\x01\x05\x00\x00", 7, JCS_ERR_NOT_DER,
	  "indefinite length at byte 1", JCS_DER_ANY },
	{ "long form short", "\x30\x81\x03\x02\x01\x05", 6, JCS_ERR_NOT_DER,
	  "long form", JCS_DER_ANY },
	{ "leading zero", "\x30\x82\x00\x03\x02\x01\x05", 7, JCS_ERR_NOT_DER,
	  "leading zero", JCS_DER_ANY },
	{ "huge length", "\x30\x85\x01\x00\x00\x00\x00", 7, JCS_ERR_MALFORMED,
	  "impossible length", JCS_DER_ANY },
	{ "trailing", "\x30\x03\x02\x01\x05\x00", 6, JCS_ERR_MALFORMED,
	  "1 trailing byte after its end at byte 5", JCS_DER_ANY },
	{ "inner overrun", "\x30\x03\x02\x05\x05", 5, JCS_ERR_MALFORMED,
	  "overruns its enclosing element", JCS_DER_ANY },
	{ "multi-byte tag", "\x30\x03\x1f\x01\x00", 5, JCS_ERR_MALFORMED,
	  "multi-byte tag", JCS_DER_ANY },
	/* the label rules: BER that OpenSSL's decoder accepts */
	{ "label ok", "\x30\x09\x02\x01\x05\x0a\x01\x00\x01\x01\xff",
	  11, JCS_OK, NULL, JCS_DER_LABEL },
	{ "constructed UTF8String", "\x30\x06\x2c\x04\x0c\x02\x41\x42", 8,
	  JCS_ERR_NOT_DER, "constructed encoding (tag 0x2c) at byte 2",
	  JCS_DER_LABEL },
	{ "constructed [0]", "\x30\x06\xa0\x04\x0c\x02\x41\x42", 8,
	  JCS_ERR_NOT_DER, "constructed encoding (tag 0xa0)", JCS_DER_LABEL },
	{ "constructed OCTET STRING", "\x30\x06\x24\x04\x04\x02\x41\x42",
	  8, JCS_ERR_NOT_DER, "tag 0x24", JCS_DER_LABEL },
	{ "SET", "\x31\x03\x02\x01\x05", 5, JCS_ERR_MALFORMED, "0x31",
	  JCS_DER_LABEL },
	{ "inner SET", "\x30\x05\x31\x03\x02\x01\x05", 7, JCS_ERR_NOT_DER,
	  "tag 0x31", JCS_DER_LABEL },
	{ "critical FALSE", "\x30\x03\x01\x01\x00", 5, JCS_ERR_NOT_DER,
	  "critical FALSE is encoded at byte 2", JCS_DER_LABEL },
	{ "long BOOLEAN", "\x30\x04\x01\x02\xff\xff", 6, JCS_ERR_MALFORMED,
	  "BOOLEAN of 2 bytes", JCS_DER_LABEL },
	{ "padded INTEGER", "\x30\x04\x02\x02\x00\x05", 6, JCS_ERR_NOT_DER,
	  "INTEGER at byte 2 has a redundant leading byte", JCS_DER_LABEL },
	{ "padded negative INTEGER", "\x30\x04\x02\x02\xff\x85", 6,
	  JCS_ERR_NOT_DER, "redundant leading byte", JCS_DER_LABEL },
	{ "needed zero byte", "\x30\x04\x02\x02\x00\x85", 6, JCS_OK, NULL,
	  JCS_DER_LABEL },
	{ "padded ENUMERATED", "\x30\x04\x0a\x02\x00\x01", 6,
	  JCS_ERR_NOT_DER, "ENUMERATED at byte 2", JCS_DER_LABEL },
	{ "empty INTEGER", "\x30\x02\x02\x00", 4, JCS_ERR_MALFORMED,
	  "empty INTEGER", JCS_DER_LABEL },
	/* the same are left to the decoder of other structures (CRLs) */
	{ "constructed string, any", "\x30\x06\x2c\x04\x0c\x02\x41\x42", 8,
	  JCS_OK, NULL, JCS_DER_ANY },
	{ "BOOLEAN FALSE, any", "\x30\x03\x01\x01\x00", 5, JCS_OK, NULL,
	  JCS_DER_ANY },
};

static void
test_der_walk(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	uint8_t deep[64];

	(void)state;
	for (size_t i = 0; i < sizeof(der_cases) / sizeof(der_cases[0]); i++) {
		const struct der_case *c = &der_cases[i];
		int rc;

		jcs_ok(ctx);
		rc = jcs_der_check(ctx, (const uint8_t *)c->bytes, c->len,
		    "label", c->rules);
		if ((rc == 0) != (c->want == JCS_OK) ||
		    jcs_ctx_error(ctx) != c->want ||
		    (c->msg != NULL && strstr(jcs_ctx_message(ctx), c->msg) ==
		    NULL))
			fail_msg("%s: got %s '%s'", c->name,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
	}
	/* 20 nested SEQUENCEs: deeper than any label */
	for (int i = 0; i < 20; i++) {
		deep[2 * i] = 0x30;
		deep[2 * i + 1] = (uint8_t)(2 * (19 - i));
	}
	assert_int_equal(jcs_der_check(ctx, deep, 40, "label", JCS_DER_ANY),
	    -1);
	assert_msg(ctx, "deeper than");
	jcs_ctx_free(ctx);
}

static void
test_errors_and_schemes(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	assert_string_equal(jcs_version(), JCS_VERSION_STRING);
	assert_int_equal(jcs_ctx_error(ctx), JCS_OK);
	assert_string_equal(jcs_ctx_message(ctx), "");
	/* a message built from the previous one is not garbled */
	jcs_fail(ctx, JCS_ERR_IO, "cannot open x: No such file or directory");
	jcs_fail(ctx, JCS_ERR_IO, "outer: %s", jcs_ctx_message(ctx));
	assert_string_equal(jcs_ctx_message(ctx),
	    "outer: cannot open x: No such file or directory");
	assert_string_equal(jcs_err_name(JCS_ERR_BAD_SIGNATURE),
	    "bad-signature");
	assert_string_equal(jcs_err_name((jcs_err)999), "unknown");
	assert_int_equal(jcs_err_is_verdict(JCS_ERR_EXPIRED), 1);
	assert_int_equal(jcs_err_is_verdict(JCS_ERR_IO), 0);
	assert_int_equal(jcs_err_is_verdict(JCS_ERR_TOO_LARGE), 0);
	assert_int_equal(jcs_scheme_from_name("JCSTAR"), JCS_SCHEME_JCSTAR);
	assert_int_equal(jcs_scheme_from_name("cyber-trust-mark"),
	    JCS_SCHEME_CYBER_TRUST_MARK);
	assert_int_equal(jcs_scheme_from_name("cra"), JCS_SCHEME_CRA);
	assert_int_equal(jcs_scheme_from_name("nope"), 0);
	assert_null(jcs_scheme_name(0));
	assert_string_equal(jcs_scheme_name(JCS_SCHEME_PSTI), "psti");
	jcs_ctx_free(ctx);
	jcs_ctx_free(NULL);
	jcs_free(NULL);
}

/* A certificate's key identifier, taken over the SubjectPublicKeyInfo as
 * the certificate encodes it, equals the one of its key re-encoded (what
 * the signer's private key gives at issuance), for both algorithms. */
static void
test_cert_key_id(void **state)
{
	(void)state;
	for (int a = 0; a < 2; a++) {
		EVP_PKEY *k = a == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256") : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		X509 *x = X509_new();
		uint8_t want[JCS_KEYID_LEN], got[JCS_KEYID_LEN];
		uint8_t other[JCS_KEYID_LEN];
		EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

		assert_non_null(k);
		assert_non_null(k2);
		assert_non_null(x);
		assert_int_equal(X509_set_pubkey(x, k), 1);
		assert_int_equal(jcs_key_id_of(k, want), 0);
		assert_int_equal(jcs_cert_key_id(x, got), 0);
		assert_memory_equal(got, want, JCS_KEYID_LEN);
		/* and another key gives another identifier */
		assert_int_equal(jcs_key_id_of(k2, other), 0);
		assert_memory_not_equal(got, other, JCS_KEYID_LEN);
		X509_free(x);
		EVP_PKEY_free(k);
		EVP_PKEY_free(k2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_der_walk),
		cmocka_unit_test(test_errors_and_schemes),
		cmocka_unit_test(test_cert_key_id),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
