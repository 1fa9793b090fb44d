/* test_verify.c - trust bundles and label verification: every way a label
 * can fail to be valid, each with its specific verdict. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "testutil.h"

static char *tmp;

static int
setup(void **state)
{
	(void)state;
	tmp = tu_tmpdir();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tu_rmrf(tmp);
	free(tmp);
	return 0;
}

/* Creates a CA under tmp/name with the given signer EKU and lifetime,
 * created at `now`; returns its directory (static buffer per call). */
static const char *
make_ca(const char *name, const char *eku, long days, const char *now,
    int alg)
{
	static char dirs[8][4096];
	static int next;
	char *dir = dirs[next++ % 8], prof[4096];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca_init_opts o;

	snprintf(prof, sizeof(prof), "%s/prof-%s", tmp, name);
	assert_int_equal(mkdir(prof, 0700), 0);
	tu_profiles(prof, eku, days);
	snprintf(dir, 4096, "%s/%s", tmp, name);
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = name;
	o.alg = alg;
	o.profile_dir = prof;
	o.now = tu_time(now);
	if (jcs_ca_init(ctx, &o) == -1)
		fail_msg("ca init %s: %s", name, jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return dir;
}

static char *
trust_pem(const char *dir)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, dir, NULL);
	char *pem;

	assert_non_null(ca);
	pem = jcs_ca_trust_pem(ctx, ca);
	assert_non_null(pem);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return pem;
}

static jcs_trust *
trust_of(const char *text)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *t = jcs_trust_load_mem(ctx, (const uint8_t *)text,
	    strlen(text));

	if (t == NULL)
		fail_msg("trust: %s", jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return t;
}

/* Signs the reference fields (with validity nb..na) with a CA's signer
 * key, bypassing issuance rules. */
static jcs_label *
sign_with(const char *dir, const char *nb, const char *na)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char path[4096];
	jcs_label_fields f = tu_ref_fields();
	jcs_key *k;
	jcs_label *l;

	snprintf(path, sizeof(path), "%s/signers/0001.key", dir);
	k = jcs_key_load(ctx, path, NULL);
	assert_non_null(k);
	f.not_before = tu_time(nb);
	f.not_after = tu_time(na);
	l = jcs_label_new(ctx, &f);
	assert_non_null(l);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	jcs_key_free(k);
	jcs_ctx_free(ctx);
	return l;
}

static void
expect(const jcs_trust *t, const jcs_label *l, const char *at, int min,
    int scheme, jcs_err want, const char *msg)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_verify_opts o = { .at = tu_time(at), .min_level = min,
	    .scheme = scheme };
	int rc = jcs_verify(ctx, t, l, &o, NULL);

	assert_int_equal(rc, want == JCS_OK ? 0 : -1);
	assert_err(ctx, want);
	if (msg != NULL)
		assert_msg(ctx, msg);
	if (want != JCS_OK)
		assert_true(jcs_err_is_verdict(want));
	jcs_ctx_free(ctx);
}

static void
test_validity_window(void **state)
{
	const char *a = make_ca("window", NULL, 1827, "2025-01-01", 0);
	char *pem = trust_pem(a);
	jcs_trust *t = trust_of(pem);
	jcs_label *l = sign_with(a, "2026-06-01", "2027-06-01");

	(void)state;
	expect(t, l, "2026-12-01", 0, 0, JCS_OK, NULL);
	expect(t, l, "2026-06-01", 0, 0, JCS_OK, NULL);
	expect(t, l, "2026-01-01", 0, 0, JCS_ERR_NOT_YET_VALID,
	    "not valid until 2026-06-01");
	expect(t, l, "2027-06-02", 0, 0, JCS_ERR_EXPIRED,
	    "expired on 2027-06-01");
	jcs_label_free(l);
	jcs_trust_free(t);
	free(pem);
}

static void
test_signer_validity(void **state)
{
	/* a signer valid for 30 days; a label claiming a year */
	const char *a = make_ca("short", NULL, 30, "2026-01-01", 0);
	char *pem = trust_pem(a);
	jcs_trust *t = trust_of(pem);
	jcs_label *l = sign_with(a, "2026-01-01", "2027-01-01");

	(void)state;
	expect(t, l, "2026-03-01", 0, 0, JCS_ERR_SIGNER_EXPIRED,
	    "expired on 2026-01-31");
	expect(t, l, "2026-01-10", 0, 0, JCS_ERR_OUTSIDE_SIGNER,
	    "not within its signer's");
	/* before both: the label's own (authentic) date is the verdict */
	expect(t, l, "2025-12-01", 0, 0, JCS_ERR_NOT_YET_VALID,
	    "not valid until 2026-01-01");
	/* after both: likewise */
	expect(t, l, "2027-02-01", 0, 0, JCS_ERR_EXPIRED,
	    "expired on 2027-01-01");
	jcs_label_free(l);
	jcs_trust_free(t);
	free(pem);
}

/* Label and signer end at the same second: valid at that second (both
 * ends inclusive, for certificates as for labels), not one second later. */
static void
test_inclusive_end(void **state)
{
	const char *a = make_ca("edge", NULL, 30, "2026-01-01", 0);
	char *pem = trust_pem(a);
	jcs_trust *t = trust_of(pem);
	jcs_label *l = sign_with(a, "2026-01-01", "2026-01-31");

	(void)state;
	expect(t, l, "2026-01-31T00:00:00Z", 0, 0, JCS_OK, NULL);
	expect(t, l, "2026-01-01T00:00:00Z", 0, 0, JCS_OK, NULL);
	expect(t, l, "2026-01-31T00:00:01Z", 0, 0, JCS_ERR_EXPIRED, NULL);
	jcs_label_free(l);
	jcs_trust_free(t);
	free(pem);
}

/* One signer key certified twice, the first certificate long expired: the
 * verifier must go on to the second, whatever the order. */
static void
test_recertified_signer(void **state)
{
	const char *a = make_ca("recert", NULL, 1827, "2025-01-01", 0);
	char *pem = trust_pem(a), path[4096], *both;
	const char *signer = strstr(pem + 1, "-----BEGIN CERTIFICATE");
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_key *root;
	jcs_label *l = sign_with(a, "2025-06-01", "2026-06-01");
	X509 *old;
	BIO *bio;
	BUF_MEM *mem;
	time_t nb = tu_time("2010-01-01"), na = tu_time("2011-01-01");
	jcs_trust *t;

	(void)state;
	snprintf(path, sizeof(path), "%s/root.key", a);
	root = jcs_key_load(ctx, path, NULL);
	assert_non_null(root);
	bio = BIO_new_mem_buf(signer, -1);
	old = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(old);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(old), 0, 0, &nb));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(old), 0, 0, &na));
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(old), 4242),
	    1);
	assert_true(X509_sign(old, root->pkey, EVP_sha256()) > 0);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(bio, old), 1);
	BIO_get_mem_ptr(bio, &mem);
	both = calloc(1, strlen(pem) * 2 + mem->length + 1);
	/* root, expired twin, valid signer */
	memcpy(both, pem, (size_t)(signer - pem));
	memcpy(both + strlen(both), mem->data, mem->length);
	strcat(both, signer);
	t = trust_of(both);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	expect(t, l, "2026-01-01", 0, 0, JCS_OK, NULL);
	jcs_trust_free(t);
	/* root, valid signer, expired twin */
	memcpy(both, pem, strlen(pem) + 1);
	memcpy(both + strlen(both), mem->data, mem->length);
	t = trust_of(both);
	expect(t, l, "2026-01-01", 0, 0, JCS_OK, NULL);
	jcs_trust_free(t);
	/* the expired twin alone: the signer's time is the verdict */
	memcpy(both, pem, (size_t)(signer - pem));
	both[signer - pem] = '\0';
	memcpy(both + strlen(both), mem->data, mem->length);
	t = trust_of(both);
	expect(t, l, "2026-01-01", 0, 0, JCS_ERR_SIGNER_EXPIRED,
	    "expired on 2011-01-01");
	jcs_trust_free(t);
	BIO_free(bio);
	X509_free(old);
	jcs_key_free(root);
	jcs_label_free(l);
	jcs_ctx_free(ctx);
	free(both);
	free(pem);
}

static void
test_signer_without_eku(void **state)
{
	const char *none = make_ca("noeku", "", 1827, "2025-01-01", 0);
	const char *tls = make_ca("tlseku", "serverAuth", 1827, "2025-01-01",
	    0);
	char *p1 = trust_pem(none), *p2 = trust_pem(tls);
	jcs_trust *t1 = trust_of(p1), *t2 = trust_of(p2);
	jcs_label *l1 = sign_with(none, "2025-06-01", "2026-06-01");
	jcs_label *l2 = sign_with(tls, "2025-06-01", "2026-06-01");

	(void)state;
	expect(t1, l1, "2026-01-01", 0, 0, JCS_ERR_NOT_LABEL_SIGNER,
	    "label-signing extended key usage");
	expect(t2, l2, "2026-01-01", 0, 0, JCS_ERR_NOT_LABEL_SIGNER,
	    JCS_OID_EKU_LABEL_SIGNING);
	jcs_label_free(l1);
	jcs_label_free(l2);
	jcs_trust_free(t1);
	jcs_trust_free(t2);
	free(p1);
	free(p2);
}

/* The bundle has the signer but another body's root. */
static void
test_root_not_in_bundle(void **state)
{
	const char *a = make_ca("alpha", NULL, 1827, "2025-01-01", 0);
	const char *b = make_ca("beta", NULL, 1827, "2025-01-01", 0);
	char *pa = trust_pem(a), *pb = trust_pem(b), *mixed;
	const char *signer_a = strstr(pa + 1, "-----BEGIN CERTIFICATE");
	const char *signer_b = strstr(pb + 1, "-----BEGIN CERTIFICATE");
	jcs_trust *t;
	jcs_label *l = sign_with(a, "2025-06-01", "2026-06-01");

	(void)state;
	assert_non_null(signer_a);
	mixed = calloc(1, strlen(pa) + strlen(pb) + 1);
	memcpy(mixed, pb, (size_t)(signer_b - pb)); /* root of beta */
	strcat(mixed, signer_a);                    /* signer of alpha */
	t = trust_of(mixed);
	assert_int_equal(jcs_trust_root_count(t), 1);
	assert_int_equal(jcs_trust_signer_count(t), 1);
	expect(t, l, "2026-01-01", 0, 0, JCS_ERR_UNTRUSTED,
	    "does not chain to a root");
	jcs_label_free(l);
	jcs_trust_free(t);
	free(mixed);
	free(pa);
	free(pb);
}

static void
test_unknown_issuer_and_wrong_key(void **state)
{
	const char *a = make_ca("gamma", NULL, 1827, "2025-01-01", 0);
	const char *b = make_ca("delta", NULL, 1827, "2025-01-01", 0);
	char *pa = trust_pem(a);
	jcs_trust *t = trust_of(pa);
	jcs_label *good = sign_with(a, "2025-06-01", "2026-06-01");
	jcs_label *other = sign_with(b, "2025-06-01", "2026-06-01");
	jcs_ctx *ctx = jcs_ctx_new();
	uint8_t buf[600];
	const uint8_t *der;
	size_t len;
	jcs_label *forged;
	char want[64];

	(void)state;
	expect(t, good, "2026-01-01", 0, 0, JCS_OK, NULL);
	snprintf(want, sizeof(want), "key id %s", jcs_label_issuer_hex(other));
	expect(t, other, "2026-01-01", 0, 0, JCS_ERR_UNKNOWN_ISSUER, want);
	/* signed by delta's key but claiming gamma's key id: forged */
	der = jcs_label_der(other, &len);
	memcpy(buf, der, len);
	assert_int_equal(buf[19], 0x04);
	memcpy(buf + 21, jcs_label_der(good, NULL) + 21, 8);
	forged = jcs_label_from_der(ctx, buf, len);
	assert_non_null(forged);
	snprintf(want, sizeof(want), "signer key %s",
	    jcs_label_issuer_hex(good));
	expect(t, forged, "2026-01-01", 0, 0, JCS_ERR_BAD_SIGNATURE, want);
	jcs_label_free(forged);
	jcs_label_free(good);
	jcs_label_free(other);
	jcs_trust_free(t);
	jcs_ctx_free(ctx);
	free(pa);
}

/* Two signers with one key id: the verifier tries each. */
static void
test_shared_key_id(void **state)
{
	const char *a = make_ca("eps", NULL, 1827, "2025-01-01", 0);
	const char *b = make_ca("zeta", NULL, 1827, "2025-01-01", 0);
	char *pa = trust_pem(a), *pb = trust_pem(b), *both;
	jcs_label *la = sign_with(a, "2025-06-01", "2026-06-01");
	jcs_label *lb = sign_with(b, "2025-06-01", "2026-06-01");
	jcs_trust *t;
	uint8_t id[JCS_KEYID_LEN];

	(void)state;
	both = calloc(1, strlen(pa) + strlen(pb) + 1);
	strcpy(both, pb); /* zeta's signer comes first */
	strcat(both, pa);
	t = trust_of(both);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	assert_int_equal(jcs_trust_root_count(t), 2);
	/* give zeta's signer (index 0) eps's key id */
	memcpy(id, jcs_label_der(la, NULL) + 21, JCS_KEYID_LEN);
	assert_int_equal(jcs_trust_insecure_set_signer_id(t, 0, id), 0);
	expect(t, la, "2026-01-01", 0, 0, JCS_OK, NULL);
	/* zeta's own label now matches no id */
	expect(t, lb, "2026-01-01", 0, 0, JCS_ERR_UNKNOWN_ISSUER, NULL);
	/* both share the id and neither verifies a forgery */
	memcpy(id, jcs_label_der(lb, NULL) + 21, JCS_KEYID_LEN);
	assert_int_equal(jcs_trust_insecure_set_signer_id(t, 0, id), 0);
	assert_int_equal(jcs_trust_insecure_set_signer_id(t, 1, id), 0);
	{
		jcs_ctx *ctx = jcs_ctx_new();
		uint8_t buf[600];
		size_t len;
		const uint8_t *der = jcs_label_der(lb, &len);
		jcs_label *forged;

		memcpy(buf, der, len);
		buf[70] ^= 1; /* vendor altered */
		forged = jcs_label_from_der(ctx, buf, len);
		assert_non_null(forged);
		expect(t, forged, "2026-01-01", 0, 0, JCS_ERR_BAD_SIGNATURE,
		    "2 signers share key id");
		jcs_label_free(forged);
		jcs_ctx_free(ctx);
	}
	jcs_label_free(la);
	jcs_label_free(lb);
	jcs_trust_free(t);
	free(both);
	free(pa);
	free(pb);
}

/* A CRA "critical" (level 4) label is no JC-STAR star 3. */
static void
test_other_scheme_levels(void **state)
{
	const char *a = make_ca("cra", NULL, 1827, "2025-01-01", 0);
	char *pem = trust_pem(a), path[4096];
	jcs_trust *t = trust_of(pem);
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label_fields f = tu_ref_fields();
	jcs_key *k;
	jcs_label *l;

	(void)state;
	snprintf(path, sizeof(path), "%s/signers/0001.key", a);
	k = jcs_key_load(ctx, path, NULL);
	f.scheme = JCS_SCHEME_CRA;
	f.level = 4;
	f.lab = "Notified Body 1234";
	f.not_before = tu_time("2025-06-01");
	f.not_after = tu_time("2026-06-01");
	l = jcs_label_new(ctx, &f);
	assert_non_null(l);
	assert_int_equal(jcs_label_sign(ctx, l, k), 0);
	expect(t, l, "2026-01-01", 0, 0, JCS_OK, NULL);
	expect(t, l, "2026-01-01", 3, JCS_SCHEME_JCSTAR, JCS_ERR_BELOW_POLICY,
	    "label is CRA critical; JC-STAR \u26053 or higher is required");
	jcs_label_free(l);
	jcs_key_free(k);
	jcs_trust_free(t);
	jcs_ctx_free(ctx);
	free(pem);
}

static void
test_algorithms_do_not_mix(void **state)
{
	const char *e = make_ca("eddy", NULL, 1827, "2025-01-01",
	    JCS_ALG_ED25519);
	char *pem = trust_pem(e);
	jcs_trust *t = trust_of(pem);
	jcs_label *l = sign_with(e, "2025-06-01", "2026-06-01");

	(void)state;
	assert_string_equal(jcs_label_sig_alg(l), "Ed25519");
	expect(t, l, "2026-01-01", 0, 0, JCS_OK, NULL);
	jcs_label_free(l);
	jcs_trust_free(t);
	free(pem);
}

static void
test_policy(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *t = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_label *l = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));

	(void)state;
	expect(t, l, "2026-01-01", 1, 0, JCS_OK, NULL);
	expect(t, l, "2026-01-01", 1, JCS_SCHEME_JCSTAR, JCS_OK, NULL);
	expect(t, l, "2026-01-01", 2, 0, JCS_ERR_BELOW_POLICY,
	    "label is JC-STAR \u26051; JC-STAR \u26052 or higher is required");
	expect(t, l, "2026-01-01", 1, JCS_SCHEME_CLS, JCS_ERR_BELOW_POLICY,
	    "CLS level 1 or higher");
	/* a required scheme applies on its own, without a level */
	expect(t, l, "2026-01-01", 0, JCS_SCHEME_CLS, JCS_ERR_BELOW_POLICY,
	    "CLS level 1 or higher");
	expect(t, l, "2026-01-01", 0, JCS_SCHEME_JCSTAR, JCS_OK, NULL);
	/* the built-in procurement policy: low -> 1+, medium/high -> 3+ */
	{
		jcs_policy *pol = jcs_policy_load_builtin(ctx);
		const jcs_requirement *req;
		size_t n;

		assert_non_null(pol);
		assert_int_equal(jcs_policy_lookup(ctx, pol, "low", &req, &n),
		    0);
		assert_int_equal(n, 1);
		assert_int_equal(req[0].scheme, JCS_SCHEME_JCSTAR);
		assert_int_equal(req[0].min_level, 1);
		assert_int_equal(jcs_policy_lookup(ctx, pol, "high", &req, &n),
		    0);
		assert_int_equal(req[0].min_level, 3);
		assert_int_equal(jcs_policy_lookup(ctx, pol, "medium", &req,
		    &n), 0);
		assert_int_equal(req[0].min_level, 3);
		expect(t, l, "2026-01-01", 3, JCS_SCHEME_JCSTAR,
		    JCS_ERR_BELOW_POLICY, "\u26053 or higher");
		assert_int_equal(jcs_policy_lookup(ctx, pol, "urgent", &req,
		    &n), -1);
		assert_err(ctx, JCS_ERR_NOT_FOUND);
		assert_msg(ctx, "known: low medium high");
		jcs_policy_free(pol);
	}
	jcs_label_free(l);
	jcs_trust_free(t);
	jcs_ctx_free(ctx);
}

static const struct bundle_case {
	const char *name;
	const char *text;
	jcs_err want;
	const char *msg;
} bundle_cases[] = {
	{ "empty", "", JCS_ERR_MALFORMED, "empty" },
	{ "garbage", "hello world\n", JCS_ERR_MALFORMED, "cannot be read" },
	{ "private key", "-----BEGIN PRIVATE KEY-----\nMAA=\n"
	  "-----END PRIVATE KEY-----\n", JCS_ERR_MALFORMED,
	  "never publish a private key" },
	{ "bad certificate", "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n"
	  "-----END CERTIFICATE-----\n", JCS_ERR_MALFORMED,
	  "not a valid certificate" },
	{ "bad base64", "-----BEGIN CERTIFICATE-----\n*!*\n"
	  "-----END CERTIFICATE-----\n", JCS_ERR_MALFORMED, "block 1" },
};

static void
test_bundle_errors(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char *pem, *signer_only, path[4096];
	const char *a = make_ca("eta", NULL, 1827, "2025-01-01", 0);
	uint8_t *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bundle_cases) / sizeof(bundle_cases[0]);
	    i++) {
		const struct bundle_case *c = &bundle_cases[i];

		if (jcs_trust_load_mem(ctx, (const uint8_t *)c->text,
		    strlen(c->text)) != NULL)
			fail_msg("%s: accepted", c->name);
		if (jcs_ctx_error(ctx) != c->want ||
		    strstr(jcs_ctx_message(ctx), c->msg) == NULL)
			fail_msg("%s: got %s '%s'", c->name,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
	}
	/* signer certificates but no root */
	pem = trust_pem(a);
	signer_only = strstr(pem + 1, "-----BEGIN CERTIFICATE");
	assert_null(jcs_trust_load_mem(ctx, (uint8_t *)signer_only,
	    strlen(signer_only)));
	assert_err(ctx, JCS_ERR_MALFORMED);
	assert_msg(ctx, "no root");
	free(pem);
	/* oversized and missing files */
	big = calloc(1, JCS_TRUST_MAX_FILE + 1);
	snprintf(path, sizeof(path), "%s/big.pem", tmp);
	tu_write(path, big, JCS_TRUST_MAX_FILE + 1);
	free(big);
	assert_null(jcs_trust_load_file(ctx, path));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	snprintf(path, sizeof(path), "%s/none.pem", tmp);
	assert_null(jcs_trust_load_file(ctx, path));
	assert_err(ctx, JCS_ERR_IO);
	assert_msg(ctx, "none.pem");
	jcs_trust_free(NULL);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_signer_validity),
		cmocka_unit_test(test_inclusive_end),
		cmocka_unit_test(test_recertified_signer),
		cmocka_unit_test(test_signer_without_eku),
		cmocka_unit_test(test_root_not_in_bundle),
		cmocka_unit_test(test_unknown_issuer_and_wrong_key),
		cmocka_unit_test(test_shared_key_id),
		cmocka_unit_test(test_algorithms_do_not_mix),
		cmocka_unit_test(test_other_scheme_levels),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_bundle_errors),
	};

	return cmocka_run_group_tests_name("verify", tests, setup, teardown);
}
