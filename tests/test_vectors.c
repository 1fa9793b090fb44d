/* test_vectors.c - the committed reference labels (tests/vectors/). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const uint8_t ref_serial[9] = { 0x5a, 0x17, 0x3c, 0x9e, 0x04, 0xb2,
	0x6d, 0x81, 0xf0 };

static void
verify_file(const char *label, const char *trust, jcs_err want)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *t = jcs_trust_load_file(ctx, tu_src(trust));
	jcs_label *l;
	jcs_verify_opts o = { .at = tu_time("2026-01-01") };
	const char *signer = NULL;

	assert_non_null(t);
	l = jcs_label_load_file(ctx, tu_src(label));
	assert_non_null(l);
	assert_int_equal(jcs_verify(ctx, t, l, &o, &signer),
	    want == JCS_OK ? 0 : -1);
	assert_err(ctx, want);
	if (want == JCS_OK)
		assert_non_null(strstr(signer, "Label Signer 0001"));
	jcs_label_free(l);
	jcs_trust_free(t);
	jcs_ctx_free(ctx);
}

static void
test_reference_p256(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *l = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));
	const jcs_label_fields *f;
	size_t len;

	(void)state;
	assert_non_null(l);
	jcs_label_der(l, &len);
	/* issue 2: the reference label is at most 220 bytes */
	assert_true(len <= 220);
	f = jcs_label_get_fields(l);
	assert_int_equal(f->scheme, JCS_SCHEME_JCSTAR);
	assert_int_equal(f->level, 1);
	assert_string_equal(f->product.reg_id, "JCS-2025-000123");
	assert_string_equal(f->product.vendor,
	    "Example Electronics Co., Ltd.");
	assert_string_equal(f->product.product, "Home Router");
	assert_string_equal(f->product.model, "HR-1000");
	assert_null(f->product.unit_serial);
	assert_null(f->lab);
	assert_int_equal(f->not_before, tu_time("2025-04-01"));
	assert_int_equal(f->not_after, tu_time("2027-04-01"));
	assert_int_equal(f->support_until, tu_time("2030-03-31"));
	assert_string_equal(jcs_label_serial_hex(l), "5a173c9e04b26d81f0");
	assert_string_equal(jcs_label_sig_alg(l), "ecdsa-with-SHA256");
	jcs_label_free(l);
	jcs_ctx_free(ctx);
	verify_file("tests/vectors/ref-p256.der",
	    "tests/vectors/trust-p256.pem", JCS_OK);
	verify_file("tests/vectors/ref-p256.pem",
	    "tests/vectors/trust-p256.pem", JCS_OK);
	/* a label of one CA is unknown to the other */
	verify_file("tests/vectors/ref-p256.der",
	    "tests/vectors/trust-ed25519.pem", JCS_ERR_UNKNOWN_ISSUER);
}

static void
test_pem_matches_der(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *a = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));
	jcs_label *b = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.pem"));
	const uint8_t *da, *db;
	size_t la, lb;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	da = jcs_label_der(a, &la);
	db = jcs_label_der(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	jcs_label_free(a);
	jcs_label_free(b);
	jcs_ctx_free(ctx);
}

/* Ed25519 is deterministic: the committed key and fields give the committed
 * label byte for byte. */
static void
test_golden_ed25519(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label_fields f = tu_ref_fields();
	jcs_key *k = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-ed25519/signers/0001.key"), NULL);
	jcs_label *l;
	uint8_t *want;
	size_t wantlen, len;
	const uint8_t *der;

	(void)state;
	assert_non_null(k);
	l = jcs_label_new(ctx, &f);
	assert_non_null(l);
	assert_int_equal(jcs_label_set_serial(ctx, l, ref_serial,
	    sizeof(ref_serial)), 0);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	assert_string_equal(jcs_label_sig_alg(l), "Ed25519");
	der = jcs_label_der(l, &len);
	want = tu_read(tu_src("tests/vectors/ref-ed25519.der"), &wantlen);
	assert_int_equal(len, wantlen);
	assert_memory_equal(der, want, len);
	free(want);
	jcs_label_free(l);
	jcs_key_free(k);
	jcs_ctx_free(ctx);
	verify_file("tests/vectors/ref-ed25519.der",
	    "tests/vectors/trust-ed25519.pem", JCS_OK);
}

/* ECDSA is randomised: a re-signed reference label differs from the
 * committed one only in the signature, and verifies. */
static void
test_resign_p256(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label_fields f = tu_ref_fields();
	jcs_key *k = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	jcs_trust *t = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_verify_opts o = { .at = tu_time("2026-01-01") };
	jcs_label *l, *committed;
	const uint8_t *a, *b;
	size_t la, lb;

	(void)state;
	assert_non_null(k);
	assert_non_null(t);
	l = jcs_label_new(ctx, &f);
	assert_int_equal(jcs_label_set_serial(ctx, l, ref_serial,
	    sizeof(ref_serial)), 0);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	assert_int_equal(jcs_verify(ctx, t, l, &o, NULL), 0);
	committed = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));
	a = jcs_label_der(l, &la);
	b = jcs_label_der(committed, &lb);
	/* same tbsLabel and algorithm: the first 141 bytes (outer header,
	 * tbsLabel, AlgorithmIdentifier) match */
	assert_memory_equal(a + 3, b + 3, 124 + 12);
	jcs_label_free(committed);
	jcs_label_free(l);
	jcs_trust_free(t);
	jcs_key_free(k);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_p256),
		cmocka_unit_test(test_pem_matches_der),
		cmocka_unit_test(test_golden_ed25519),
		cmocka_unit_test(test_resign_p256),
	};

	return cmocka_run_group_tests_name("vectors", tests, NULL, NULL);
}
