/* test_crl.c - revocation: CRLs built with jcs_crl_build, read from trust
 * bundles; revoked labels and signers, CRL scope, bad CRLs, freshness,
 * openssl's view of our CRLs, big CRLs, reason names. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

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

/* ---- helpers ---- */

#define MAX_SIGNERS 4

struct ca {
	char dir[4096];
	char name[64];
	X509 *root;
	jcs_key *root_key;
	X509 *signer[MAX_SIGNERS];
	jcs_key *signer_key[MAX_SIGNERS];
	char signer_id[MAX_SIGNERS][17];
	size_t n;
};

static X509 *
read_cert(const char *path)
{
	size_t len;
	uint8_t *buf = tu_read(path, &len);
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	free(buf);
	assert_non_null(x);
	return x;
}

static void
ca_load_signer(struct ca *c, size_t i)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char path[4200];

	snprintf(path, sizeof(path), "%s/signers/%04zu.crt", c->dir, i + 1);
	c->signer[i] = read_cert(path);
	snprintf(path, sizeof(path), "%s/signers/%04zu.key", c->dir, i + 1);
	c->signer_key[i] = jcs_key_load(ctx, path, NULL);
	assert_non_null(c->signer_key[i]);
	snprintf(c->signer_id[i], sizeof(c->signer_id[i]), "%s",
	    jcs_key_id_hex(c->signer_key[i]));
	c->n = i + 1;
	jcs_ctx_free(ctx);
}

/* A CA made at 2025-01-01 from the repository's profiles (certs/), or,
 * with old_profiles, from profiles whose signer lacks cRLSign. */
static void
ca_make(struct ca *c, const char *name, int alg, int old_profiles)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca_init_opts o;
	char prof[4200], path[4200];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->dir, sizeof(c->dir), "%s/%s", tmp, name);
	memset(&o, 0, sizeof(o));
	o.dir = c->dir;
	o.name = name;
	o.alg = alg;
	if (old_profiles) {
		snprintf(prof, sizeof(prof), "%s/prof-%s", tmp, name);
		assert_int_equal(mkdir(prof, 0700), 0);
		tu_profiles(prof, NULL, 1827);
		{
			/* the signer profile as it was before cRLSign */
			char *text, *p;
			size_t len;

			if (snprintf(path, sizeof(path), "%s/signer.profile",
			    prof) >= (int)sizeof(path))
				fail_msg("path too long");
			text = (char *)tu_read(path, &len);
			p = strstr(text, "digitalSignature,cRLSign");
			assert_non_null(p);
			memmove(p + 16, p + 24, strlen(p + 24) + 1);
			tu_write(path, text, strlen(text));
			free(text);
		}
	} else {
		snprintf(prof, sizeof(prof), "%s", tu_src("certs"));
	}
	o.profile_dir = prof;
	o.now = tu_time("2025-01-01");
	if (jcs_ca_init(ctx, &o) == -1)
		fail_msg("ca init %s: %s", name, jcs_ctx_message(ctx));
	snprintf(path, sizeof(path), "%s/root.crt", c->dir);
	c->root = read_cert(path);
	snprintf(path, sizeof(path), "%s/root.key", c->dir);
	c->root_key = jcs_key_load(ctx, path, NULL);
	assert_non_null(c->root_key);
	ca_load_signer(c, 0);
	jcs_ctx_free(ctx);
}

/* Adds signer n+1 (made at 2025-05-01). */
static void
ca_rotate(struct ca *c)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, c->dir, NULL);

	assert_non_null(ca);
	if (jcs_ca_rotate(ctx, ca, tu_src("certs"),
	    tu_time("2025-05-01")) == -1)
		fail_msg("rotate: %s", jcs_ctx_message(ctx));
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	ca_load_signer(c, c->n);
}

static void
ca_free(struct ca *c)
{
	X509_free(c->root);
	jcs_key_free(c->root_key);
	for (size_t i = 0; i < c->n; i++) {
		X509_free(c->signer[i]);
		jcs_key_free(c->signer_key[i]);
	}
}

static char *
ca_trust(const struct ca *c)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = jcs_ca_open(ctx, c->dir, NULL);
	char *pem;

	assert_non_null(ca);
	pem = jcs_ca_trust_pem(ctx, ca);
	assert_non_null(pem);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return pem;
}

/* The reference fields, valid nb..na, signed by signer i of c; with a
 * fixed serial if serial is not NULL. */
static jcs_label *
label(const struct ca *c, size_t i, const char *nb, const char *na,
    const uint8_t *serial, size_t serial_len)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label_fields f = tu_ref_fields();
	jcs_label *l;

	f.not_before = tu_time(nb);
	f.not_after = tu_time(na);
	l = jcs_label_new(ctx, &f);
	assert_non_null(l);
	if (serial != NULL)
		assert_int_equal(jcs_label_set_serial(ctx, l, serial,
		    serial_len), 0);
	assert_int_equal(jcs_label_sign(ctx, l, c->signer_key[i]), 0);
	jcs_ctx_free(ctx);
	return l;
}

/* The label's serial as octets. Returns the length. */
static size_t
serial_of(const jcs_label *l, uint8_t out[20])
{
	const char *hex = jcs_label_serial_hex(l);
	size_t n = strlen(hex) / 2;

	assert_true(n <= 20);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* A CRL by signer i of c, or by its root if i < 0. */
static char *
crl_by(const struct ca *c, int i, const struct jcs_crl_entry *e, size_t n,
    uint64_t number, const char *this_update, const char *next_update)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char *pem = NULL;
	size_t len = 0;

	if (jcs_crl_build(ctx, i < 0 ? c->root : c->signer[i],
	    i < 0 ? c->root_key->pkey : c->signer_key[i]->pkey, e, n, number,
	    tu_time(this_update), tu_time(next_update), &pem, &len) == -1)
		fail_msg("crl: %s", jcs_ctx_message(ctx));
	assert_int_equal(strlen(pem), len);
	jcs_ctx_free(ctx);
	return pem;
}

/* Concatenates up to four texts (NULL ends the list early). */
static char *
cat(const char *a, const char *b, const char *c, const char *d)
{
	const char *v[4] = { a, b, c, d };
	size_t len = 1;
	char *out;

	for (int i = 0; i < 4 && v[i] != NULL; i++)
		len += strlen(v[i]);
	out = calloc(1, len);
	assert_non_null(out);
	for (int i = 0; i < 4 && v[i] != NULL; i++)
		strcat(out, v[i]);
	return out;
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

static void
load_fails(const char *what, const char *text, jcs_err want,
    const char *msg)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *t = jcs_trust_load_mem(ctx, (const uint8_t *)text,
	    strlen(text));

	if (t != NULL)
		fail_msg("%s: bundle accepted", what);
	if (jcs_ctx_error(ctx) != want ||
	    strstr(jcs_ctx_message(ctx), msg) == NULL)
		fail_msg("%s: got %s '%s', want %s '%s'", what,
		    jcs_err_name(jcs_ctx_error(ctx)), jcs_ctx_message(ctx),
		    jcs_err_name(want), msg);
	jcs_ctx_free(ctx);
}

static void
expect(const jcs_trust *t, const jcs_label *l, const char *at, int fresh,
    jcs_err want, const char *msg)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_verify_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.at = tu_time(at);
	o.require_fresh_crl = fresh;
	rc = jcs_verify(ctx, t, l, &o, NULL);
	assert_err(ctx, want);
	assert_int_equal(rc, want == JCS_OK ? 0 : -1);
	if (msg != NULL)
		assert_msg(ctx, msg);
	if (want != JCS_OK)
		assert_true(jcs_err_is_verdict(want));
	jcs_ctx_free(ctx);
}

/* PEM -> DER -> f(DER) -> PEM of the same type. */
static char *
pem_mutate(const char *pem, void (*f)(uint8_t *der, long *len))
{
	BIO *in = BIO_new_mem_buf(pem, -1), *out = BIO_new(BIO_s_mem());
	char *name = NULL, *header = NULL, *text;
	unsigned char *data = NULL;
	long len;
	BUF_MEM *mem;

	assert_int_equal(PEM_read_bio(in, &name, &header, &data, &len), 1);
	f(data, &len);
	assert_true(PEM_write_bio(out, name, header, data, len) > 0);
	BIO_get_mem_ptr(out, &mem);
	text = calloc(1, mem->length + 1);
	assert_non_null(text);
	memcpy(text, mem->data, mem->length);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(in);
	BIO_free(out);
	return text;
}

static void
flip_last(uint8_t *der, long *len)
{
	der[*len - 1] ^= 0x01; /* inside the signature value */
}

static void
truncate_der(uint8_t *der, long *len)
{
	(void)der;
	*len -= 10;
}

static void
alter_model(uint8_t *der, size_t len)
{
	uint8_t *p = memmem(der, len, "HR-1000", 7);

	assert_non_null(p);
	p[6] = '1';
}

/* ---- tests ---- */

static const struct {
	const char *name;
	int code;
} reason_cases[] = {
	{ "unspecified", JCS_REASON_UNSPECIFIED },
	{ "key-compromise", JCS_REASON_KEY_COMPROMISE },
	{ "affiliation-changed", JCS_REASON_AFFILIATION_CHANGED },
	{ "superseded", JCS_REASON_SUPERSEDED },
	{ "cessation-of-operation", JCS_REASON_CESSATION },
	{ "certificate-hold", JCS_REASON_CERTIFICATE_HOLD },
	{ "privilege-withdrawn", JCS_REASON_PRIVILEGE_WITHDRAWN },
};

static void
test_reason_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reason_cases) / sizeof(reason_cases[0]);
	    i++) {
		assert_int_equal(jcs_reason_from_name(reason_cases[i].name),
		    reason_cases[i].code);
		assert_string_equal(jcs_reason_name(reason_cases[i].code),
		    reason_cases[i].name);
	}
	/* RFC 5280 values 1, 3, 4, 5, 6, 9 */
	assert_int_equal(JCS_REASON_KEY_COMPROMISE, 1);
	assert_int_equal(JCS_REASON_PRIVILEGE_WITHDRAWN, 9);
	assert_int_equal(jcs_reason_from_name("Key-Compromise"),
	    JCS_REASON_KEY_COMPROMISE);
	assert_int_equal(jcs_reason_from_name("keyCompromise"), -1);
	assert_int_equal(jcs_reason_from_name("remove-from-crl"), -1);
	assert_int_equal(jcs_reason_from_name(""), -1);
	assert_int_equal(jcs_reason_from_name(NULL), -1);
	assert_string_equal(jcs_reason_name(2), "unspecified");
	assert_string_equal(jcs_reason_name(8), "unspecified");
	assert_string_equal(jcs_reason_name(-1), "unspecified");
}

/* A label CRL revokes its labels, with the reason of each; the others stay
 * valid; a forged copy of a revoked label is still a forgery. */
static void
test_label_revoked(void **state)
{
	static const int algs[] = { JCS_ALG_EC_P256, JCS_ALG_ED25519 };

	(void)state;
	for (size_t a = 0; a < 2; a++) {
		struct ca c;
		size_t nr = sizeof(reason_cases) / sizeof(reason_cases[0]);
		jcs_label *l[8], *forged;
		struct jcs_crl_entry e[8];
		uint8_t serial[8][20];
		char *trust, *crl, *bundle, want[128];
		jcs_trust *t;

		ca_make(&c, algs[a] == JCS_ALG_EC_P256 ? "lr-p256" :
		    "lr-ed25519", algs[a], 0);
		for (size_t i = 0; i <= nr; i++)
			l[i] = label(&c, 0, "2025-04-01", "2026-04-01", NULL,
			    0);
		/* l[0..nr-1] revoked, one per reason; l[nr] not */
		for (size_t i = 0; i < nr; i++) {
			e[i].serial = serial[i];
			e[i].serial_len = serial_of(l[i], serial[i]);
			e[i].when = tu_time("2025-06-02") + (time_t)i * 86400;
			e[i].reason = reason_cases[i].code;
		}
		crl = crl_by(&c, 0, e, nr, 1, "2025-06-10", "2025-07-10");
		trust = ca_trust(&c);
		/* the CRL may come before the certificates */
		bundle = cat(crl, trust, NULL, NULL);
		t = trust_of(bundle);
		for (size_t i = 0; i < nr; i++) {
			char date[16];

			snprintf(want, sizeof(want), "label %s was revoked on "
			    "%s: %s", jcs_label_serial_hex(l[i]),
			    jcs_date_format(e[i].when, date, sizeof(date)),
			    reason_cases[i].name);
			expect(t, l[i], "2025-06-20", 0, JCS_ERR_REVOKED, want);
		}
		expect(t, l[1], "2025-06-20", 0, JCS_ERR_REVOKED,
		    "revoked on 2025-06-03: key-compromise");
		expect(t, l[nr], "2025-06-20", 0, JCS_OK, NULL);
		/* revoked outranks the label's own dates */
		expect(t, l[1], "2026-05-01", 0, JCS_ERR_REVOKED,
		    "key-compromise");
		expect(t, l[nr], "2026-05-01", 0, JCS_ERR_EXPIRED, NULL);
		/* ... and a forgery stays a forgery */
		{
			size_t len;
			const uint8_t *der = jcs_label_der(l[1], &len);
			uint8_t buf[600];
			jcs_ctx *ctx = jcs_ctx_new();

			assert_true(len <= sizeof(buf));
			memcpy(buf, der, len);
			alter_model(buf, len);
			forged = jcs_label_from_der(ctx, buf, len);
			assert_non_null(forged);
			assert_string_equal(jcs_label_serial_hex(forged),
			    jcs_label_serial_hex(l[1]));
			expect(t, forged, "2025-06-20", 0,
			    JCS_ERR_BAD_SIGNATURE, "altered or forged");
			jcs_label_free(forged);
			jcs_ctx_free(ctx);
		}
		jcs_trust_free(t);
		/* without the CRL, all valid */
		t = trust_of(trust);
		expect(t, l[1], "2025-06-20", 0, JCS_OK, NULL);
		jcs_trust_free(t);
		for (size_t i = 0; i <= nr; i++)
			jcs_label_free(l[i]);
		free(bundle);
		free(crl);
		free(trust);
		ca_free(&c);
	}
}

/* A label CRL's scope is its signer's root: another body's CRL in the same
 * bundle, listing the very same serial, does not touch this body's label. */
static void
test_crl_scope(void **state)
{
	static const uint8_t s[9] = { 0x5a, 0x17, 0x3c, 0x9e, 0x04, 0xb2, 0x6d,
		0x81, 0xf0 };
	struct ca a, b;
	jcs_label *la, *lb;
	struct jcs_crl_entry e = { s, sizeof(s), 0, JCS_REASON_SUPERSEDED };
	char *ta, *tb, *crl_b, *bundle;
	jcs_trust *t;

	(void)state;
	ca_make(&a, "scope-a", 0, 0);
	ca_make(&b, "scope-b", 0, 0);
	la = label(&a, 0, "2025-04-01", "2026-04-01", s, sizeof(s));
	lb = label(&b, 0, "2025-04-01", "2026-04-01", s, sizeof(s));
	assert_string_equal(jcs_label_serial_hex(la), jcs_label_serial_hex(lb));
	e.when = tu_time("2025-06-01");
	crl_b = crl_by(&b, 0, &e, 1, 7, "2025-06-01", "2025-07-01");
	ta = ca_trust(&a);
	tb = ca_trust(&b);
	bundle = cat(ta, tb, crl_b, NULL);
	t = trust_of(bundle);
	expect(t, lb, "2025-06-20", 0, JCS_ERR_REVOKED,
	    "revoked on 2025-06-01: superseded");
	expect(t, la, "2025-06-20", 0, JCS_OK, NULL);
	/* freshness is per root too: b's CRL says nothing about a's labels */
	expect(t, la, "2025-06-20", 1, JCS_ERR_STALE_CRL,
	    "the trust bundle has no label CRL");
	expect(t, la, "2025-06-20", 1, JCS_ERR_STALE_CRL, "scope-a Root CA");
	expect(t, lb, "2025-06-20", 1, JCS_ERR_REVOKED, NULL);
	jcs_trust_free(t);
	jcs_label_free(la);
	jcs_label_free(lb);
	free(bundle);
	free(crl_b);
	free(ta);
	free(tb);
	ca_free(&a);
	ca_free(&b);
}

/* require_fresh_crl: none, fresh, at nextUpdate exactly, past it. */
static void
test_freshness(void **state)
{
	struct ca c;
	jcs_label *l, *r;
	uint8_t serial[20];
	struct jcs_crl_entry e;
	char *trust, *old, *newer, *bundle;
	jcs_trust *t;

	(void)state;
	ca_make(&c, "fresh", 0, 0);
	l = label(&c, 0, "2025-04-01", "2026-04-01", NULL, 0);
	r = label(&c, 0, "2025-04-01", "2026-04-01", NULL, 0);
	e.serial = serial;
	e.serial_len = serial_of(r, serial);
	e.when = tu_time("2025-05-01");
	e.reason = JCS_REASON_PRIVILEGE_WITHDRAWN;
	trust = ca_trust(&c);
	t = trust_of(trust);
	expect(t, l, "2025-06-20", 0, JCS_OK, NULL);
	expect(t, l, "2025-06-20", 1, JCS_ERR_STALE_CRL,
	    "the trust bundle has no label CRL");
	jcs_trust_free(t);

	old = crl_by(&c, 0, &e, 1, 1, "2025-06-01", "2025-07-01");
	bundle = cat(trust, old, NULL, NULL);
	t = trust_of(bundle);
	expect(t, l, "2025-06-20", 1, JCS_OK, NULL);
	expect(t, l, "2025-07-01", 1, JCS_OK, NULL);
	expect(t, l, "2025-07-01T00:00:01Z", 1, JCS_ERR_STALE_CRL,
	    "the label CRL of 2025-06-01 expired at 2025-07-01T00:00:00Z; "
	    "fetch a fresh trust bundle");
	expect(t, l, "2025-08-01", 0, JCS_OK, NULL);
	/* a stale CRL still revokes: what it lists is known */
	expect(t, r, "2025-08-01", 1, JCS_ERR_REVOKED, "privilege-withdrawn");
	jcs_trust_free(t);
	free(bundle);

	/* two CRLs: the one with the latest nextUpdate counts, in any
	 * order; both revoke */
	newer = crl_by(&c, 0, NULL, 0, 2, "2025-07-01", "2025-08-01");
	bundle = cat(trust, newer, old, NULL);
	t = trust_of(bundle);
	expect(t, l, "2025-07-15", 1, JCS_OK, NULL);
	expect(t, l, "2025-08-02", 1, JCS_ERR_STALE_CRL,
	    "the label CRL of 2025-07-01 expired at 2025-08-01");
	expect(t, r, "2025-07-15", 1, JCS_ERR_REVOKED, NULL);
	jcs_trust_free(t);
	free(bundle);
	jcs_label_free(l);
	jcs_label_free(r);
	free(old);
	free(newer);
	free(trust);
	ca_free(&c);
}

/* After a rotation both signers' label CRLs count: the union revokes. */
static void
test_rotated_signers(void **state)
{
	struct ca c;
	jcs_label *l1, *l2, *ok;
	uint8_t s1[20], s2[20];
	struct jcs_crl_entry e1, e2;
	char *trust, *c1, *c2, *bundle;
	jcs_trust *t;

	(void)state;
	ca_make(&c, "rotated", 0, 0);
	ca_rotate(&c);
	l1 = label(&c, 0, "2025-06-01", "2026-06-01", NULL, 0);
	l2 = label(&c, 1, "2025-06-01", "2026-06-01", NULL, 0);
	ok = label(&c, 1, "2025-06-01", "2026-06-01", NULL, 0);
	e1.serial = s1;
	e1.serial_len = serial_of(l1, s1);
	e1.when = tu_time("2025-06-05");
	e1.reason = JCS_REASON_KEY_COMPROMISE;
	e2 = e1;
	e2.serial = s2;
	e2.serial_len = serial_of(l2, s2);
	e2.reason = JCS_REASON_CESSATION;
	/* old signer's CRL lists the new signer's label, and vice versa:
	 * a label CRL covers every signer under the root */
	{
		/* l1 is also in the old signer's CRL, later and for another
		 * reason: the earliest revocation is reported */
		struct jcs_crl_entry both[2] = { e2, e1 };

		both[1].when = tu_time("2025-06-06");
		both[1].reason = JCS_REASON_SUPERSEDED;
		c1 = crl_by(&c, 0, both, 2, 1, "2025-06-06", "2025-07-06");
	}
	c2 = crl_by(&c, 1, &e1, 1, 2, "2025-06-07", "2025-07-07");
	trust = ca_trust(&c);
	bundle = cat(trust, c1, c2, NULL);
	t = trust_of(bundle);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	expect(t, l1, "2025-06-20", 1, JCS_ERR_REVOKED,
	    "revoked on 2025-06-05: key-compromise");
	expect(t, l2, "2025-06-20", 1, JCS_ERR_REVOKED,
	    "revoked on 2025-06-05: cessation-of-operation");
	expect(t, ok, "2025-06-20", 1, JCS_OK, NULL);
	expect(t, ok, "2025-07-08", 1, JCS_ERR_STALE_CRL,
	    "the label CRL of 2025-06-07 expired at 2025-07-07");
	jcs_trust_free(t);
	jcs_label_free(l1);
	jcs_label_free(l2);
	jcs_label_free(ok);
	free(bundle);
	free(c1);
	free(c2);
	free(trust);
	ca_free(&c);
}

/* The root revokes a signer certificate: every label of that signer is
 * revoked, whatever its own state; the other signer is unaffected. */
static void
test_signer_revoked(void **state)
{
	static const int algs[] = { JCS_ALG_EC_P256, JCS_ALG_ED25519 };

	(void)state;
	for (size_t a = 0; a < 2; a++) {
		struct ca c;
		jcs_label *old1, *old2, *old_expired, *cur;
		const ASN1_INTEGER *sn;
		struct jcs_crl_entry e;
		char *trust, *root_crl, *old_crl, *cur_crl, *bundle;
		char want[512], subject[256];
		jcs_trust *t;

		ca_make(&c, a == 0 ? "sr-p256" : "sr-ed25519", algs[a], 0);
		ca_rotate(&c);
		old1 = label(&c, 0, "2025-06-01", "2026-06-01", NULL, 0);
		old2 = label(&c, 0, "2025-06-01", "2026-06-01", NULL, 0);
		old_expired = label(&c, 0, "2025-05-01", "2025-05-31", NULL, 0);
		cur = label(&c, 1, "2025-06-01", "2026-06-01", NULL, 0);
		sn = X509_get0_serialNumber(c.signer[0]);
		e.serial = ASN1_STRING_get0_data(sn);
		e.serial_len = (size_t)ASN1_STRING_length(sn);
		e.when = tu_time("2025-06-15");
		e.reason = JCS_REASON_KEY_COMPROMISE;
		root_crl = crl_by(&c, -1, &e, 1, 1, "2025-06-15", "2026-06-15");
		trust = ca_trust(&c);
		bundle = cat(trust, root_crl, NULL, NULL);
		t = trust_of(bundle);
		X509_NAME_oneline(X509_get_subject_name(c.signer[0]), subject,
		    sizeof(subject));
		snprintf(want, sizeof(want), "signer %s (%s) was revoked on "
		    "2025-06-15: key-compromise", c.signer_id[0], subject);
		expect(t, old1, "2025-06-20", 0, JCS_ERR_REVOKED, want);
		expect(t, old2, "2025-06-20", 0, JCS_ERR_REVOKED, want);
		/* revocation is not dated: a label carries no trusted time */
		expect(t, old1, "2025-06-10", 0, JCS_ERR_REVOKED, want);
		expect(t, old_expired, "2025-06-20", 0, JCS_ERR_REVOKED, want);
		expect(t, cur, "2025-06-20", 0, JCS_OK, NULL);
		jcs_trust_free(t);

		/* the revoked signer's label CRL still revokes, but cannot
		 * vouch for freshness; the current signer's can */
		{
			uint8_t s[20];
			struct jcs_crl_entry le;

			le.serial = s;
			le.serial_len = serial_of(cur, s);
			le.when = tu_time("2025-06-16");
			le.reason = JCS_REASON_SUPERSEDED;
			old_crl = crl_by(&c, 0, &le, 1, 1, "2025-06-16",
			    "2025-12-16");
			cur_crl = crl_by(&c, 1, NULL, 0, 2, "2025-06-17",
			    "2025-07-17");
		}
		free(bundle);
		bundle = cat(trust, root_crl, old_crl, NULL);
		t = trust_of(bundle);
		expect(t, cur, "2025-06-20", 0, JCS_ERR_REVOKED,
		    "revoked on 2025-06-16: superseded");
		jcs_trust_free(t);
		free(bundle);
		bundle = cat(trust, root_crl, old_crl, cur_crl);
		t = trust_of(bundle);
		expect(t, cur, "2025-06-20", 1, JCS_ERR_REVOKED, "superseded");
		jcs_trust_free(t);
		free(bundle);
		/* a label of the current signer, with only the revoked
		 * signer's CRL: no usable CRL */
		{
			jcs_label *cur2 = label(&c, 1, "2025-06-01",
			    "2026-06-01", NULL, 0);

			bundle = cat(trust, root_crl, old_crl, NULL);
			t = trust_of(bundle);
			expect(t, cur2, "2025-06-20", 0, JCS_OK, NULL);
			expect(t, cur2, "2025-06-20", 1, JCS_ERR_STALE_CRL,
			    "only CRLs of revoked signers");
			jcs_trust_free(t);
			free(bundle);
			bundle = cat(trust, root_crl, old_crl, cur_crl);
			t = trust_of(bundle);
			expect(t, cur2, "2025-06-20", 1, JCS_OK, NULL);
			jcs_trust_free(t);
			jcs_label_free(cur2);
		}
		jcs_label_free(old1);
		jcs_label_free(old2);
		jcs_label_free(old_expired);
		jcs_label_free(cur);
		free(bundle);
		free(root_crl);
		free(old_crl);
		free(cur_crl);
		free(trust);
		ca_free(&c);
	}
}

/* A signer key certified twice: revoking one certificate for key
 * compromise takes the other with it; for another reason it does not. */
static void
test_recertified_key_compromise(void **state)
{
	struct ca c;
	X509 *twin;
	BIO *bio;
	BUF_MEM *mem;
	jcs_label *l;
	const ASN1_INTEGER *sn;
	struct jcs_crl_entry e;
	char *trust, *twin_pem, *crl, *bundle;
	jcs_trust *t;

	(void)state;
	ca_make(&c, "recert", 0, 0);
	l = label(&c, 0, "2025-06-01", "2026-06-01", NULL, 0);
	twin = X509_dup(c.signer[0]);
	assert_non_null(twin);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(twin), 4242),
	    1);
	assert_true(X509_sign(twin, c.root_key->pkey, EVP_sha256()) > 0);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(bio, twin), 1);
	BIO_get_mem_ptr(bio, &mem);
	twin_pem = calloc(1, mem->length + 1);
	memcpy(twin_pem, mem->data, mem->length);
	BIO_free(bio);
	trust = ca_trust(&c);
	sn = X509_get0_serialNumber(c.signer[0]);
	e.serial = ASN1_STRING_get0_data(sn);
	e.serial_len = (size_t)ASN1_STRING_length(sn);
	e.when = tu_time("2025-06-15");
	e.reason = JCS_REASON_SUPERSEDED;
	crl = crl_by(&c, -1, &e, 1, 1, "2025-06-15", "2026-06-15");
	bundle = cat(trust, twin_pem, crl, NULL);
	t = trust_of(bundle);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	expect(t, l, "2025-06-20", 0, JCS_OK, NULL);
	jcs_trust_free(t);
	free(bundle);
	free(crl);

	e.reason = JCS_REASON_KEY_COMPROMISE;
	crl = crl_by(&c, -1, &e, 1, 2, "2025-06-15", "2026-06-15");
	bundle = cat(trust, twin_pem, crl, NULL);
	t = trust_of(bundle);
	expect(t, l, "2025-06-20", 0, JCS_ERR_REVOKED,
	    "was revoked on 2025-06-15: key-compromise");
	jcs_trust_free(t);
	free(bundle);
	/* with or without the certificate the CRL lists */
	{
		const char *signer = strstr(trust + 1, "-----BEGIN CERT");
		char *root_only = strndup(trust, (size_t)(signer - trust));

		bundle = cat(root_only, twin_pem, crl, NULL);
		t = trust_of(bundle);
		/* only the twin is in the bundle, its own serial unlisted */
		expect(t, l, "2025-06-20", 0, JCS_OK, NULL);
		jcs_trust_free(t);
		free(bundle);
		bundle = cat(root_only, twin_pem, signer, crl);
		t = trust_of(bundle);
		expect(t, l, "2025-06-20", 0, JCS_ERR_REVOKED,
		    "another certificate of its key was revoked");
		jcs_trust_free(t);
		free(bundle);
		/* a revoked certificate (superseded) and a twin merely out
		 * of time: revoked is the verdict, in either order */
		free(crl);
		e.reason = JCS_REASON_SUPERSEDED;
		crl = crl_by(&c, -1, &e, 1, 3, "2025-06-15", "2026-06-15");
		{
			X509 *late = X509_dup(c.signer[0]);
			time_t nb = tu_time("2010-01-01");
			time_t na = tu_time("2011-01-01");
			char *late_pem;

			assert_non_null(X509_time_adj_ex(
			    X509_getm_notBefore(late), 0, 0, &nb));
			assert_non_null(X509_time_adj_ex(
			    X509_getm_notAfter(late), 0, 0, &na));
			assert_int_equal(ASN1_INTEGER_set(
			    X509_get_serialNumber(late), 4343), 1);
			assert_true(X509_sign(late, c.root_key->pkey,
			    EVP_sha256()) > 0);
			bio = BIO_new(BIO_s_mem());
			assert_int_equal(PEM_write_bio_X509(bio, late), 1);
			BIO_get_mem_ptr(bio, &mem);
			late_pem = strndup(mem->data, mem->length);
			BIO_free(bio);
			bundle = cat(root_only, late_pem, signer, crl);
			t = trust_of(bundle);
			expect(t, l, "2025-06-20", 0, JCS_ERR_REVOKED,
			    "was revoked on 2025-06-15: superseded");
			jcs_trust_free(t);
			free(bundle);
			bundle = cat(root_only, signer, late_pem, crl);
			t = trust_of(bundle);
			expect(t, l, "2025-06-20", 0, JCS_ERR_REVOKED,
			    "was revoked on 2025-06-15: superseded");
			jcs_trust_free(t);
			free(bundle);
			/* without the CRL: the time is the verdict only if
			 * no certificate passes */
			bundle = cat(root_only, late_pem, NULL, NULL);
			t = trust_of(bundle);
			expect(t, l, "2025-06-20", 0, JCS_ERR_SIGNER_EXPIRED,
			    NULL);
			jcs_trust_free(t);
			free(bundle);
			free(late_pem);
			X509_free(late);
		}
		free(root_only);
	}
	jcs_label_free(l);
	X509_free(twin);
	free(twin_pem);
	free(crl);
	free(trust);
	ca_free(&c);
}

/* A certificate made by hand: a CA, or a label signer (EKU, cRLSign). */
static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long serial, int ca)
{
	static const char *ca_ext[][2] = {
		{ "basicConstraints", "critical,CA:TRUE" },
		{ "keyUsage", "critical,keyCertSign,cRLSign" },
	}, *ee_ext[][2] = {
		{ "basicConstraints", "critical,CA:FALSE" },
		{ "keyUsage", "critical,digitalSignature,cRLSign" },
		{ "extendedKeyUsage", "critical," JCS_OID_EKU_LABEL_SIGNING },
	};
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	X509V3_CTX v3;
	time_t nb = tu_time("2025-01-01"), na = tu_time("2030-01-01");
	X509_EXTENSION *e;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial),
	    1);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : nm);
	X509_set_pubkey(x, key);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &na);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < (ca ? 2u : 3u); i++) {
		e = X509V3_EXT_nconf(NULL, &v3, ca ? ca_ext[i][0] :
		    ee_ext[i][0], ca ? ca_ext[i][1] : ee_ext[i][1]);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	e = X509V3_EXT_nconf(NULL, &v3, "subjectKeyIdentifier", "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (issuer != NULL) {
		e = X509V3_EXT_nconf(NULL, &v3, "authorityKeyIdentifier",
		    "keyid:always");
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	X509_NAME_free(nm);
	return x;
}

static void
append_cert(char **text, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	size_t n = *text != NULL ? strlen(*text) : 0;

	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	BIO_get_mem_ptr(bio, &mem);
	*text = realloc(*text, n + mem->length + 1);
	assert_non_null(*text);
	memcpy(*text + n, mem->data, mem->length);
	(*text)[n + mem->length] = '\0';
	BIO_free(bio);
}

/* A root's signer CRL covers the signers it issued itself: the same serial
 * under an intermediate CA is another certificate. And an intermediate's
 * CRL is not one jcstar reads. */
static void
test_intermediate(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	EVP_PKEY *rk = jcs_key_generate(ctx, JCS_ALG_EC_P256);
	EVP_PKEY *ik = jcs_key_generate(ctx, JCS_ALG_EC_P256);
	EVP_PKEY *dk = jcs_key_generate(ctx, JCS_ALG_EC_P256);
	EVP_PKEY *uk = jcs_key_generate(ctx, JCS_ALG_EC_P256);
	X509 *root, *inter, *direct, *under;
	jcs_key *dkey, *ukey;
	jcs_label *ld, *lu;
	jcs_label_fields f = tu_ref_fields();
	char *trust = NULL, *crl = NULL, *bundle;
	size_t len;
	uint8_t sn[1] = { 0x65 };
	struct jcs_crl_entry e = { sn, 1, 0, JCS_REASON_KEY_COMPROMISE };
	jcs_trust *t;

	(void)state;
	assert_true(rk && ik && dk && uk);
	root = mkcert("Hand Root", rk, NULL, NULL, 1, 1);
	inter = mkcert("Hand Intermediate", ik, root, rk, 2, 1);
	direct = mkcert("Hand Direct Signer", dk, root, rk, 0x65, 0);
	under = mkcert("Hand Signer Under Intermediate", uk, inter, ik, 0x65,
	    0);
	append_cert(&trust, root);
	append_cert(&trust, inter);
	append_cert(&trust, direct);
	append_cert(&trust, under);
	dkey = jcs_key_from_pkey(ctx, dk); /* owns dk, uk from here on */
	ukey = jcs_key_from_pkey(ctx, uk);
	assert_true(dkey && ukey);
	f.not_before = tu_time("2025-04-01");
	f.not_after = tu_time("2026-04-01");
	ld = jcs_label_new(ctx, &f);
	lu = jcs_label_new(ctx, &f);
	assert_int_equal(jcs_label_sign(ctx, ld, dkey), 0);
	assert_int_equal(jcs_label_sign(ctx, lu, ukey), 0);
	t = trust_of(trust);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	expect(t, ld, "2025-06-20", 0, JCS_OK, NULL);
	expect(t, lu, "2025-06-20", 0, JCS_OK, NULL);
	jcs_trust_free(t);

	e.when = tu_time("2025-06-01");
	assert_int_equal(jcs_crl_build(ctx, root, rk, &e, 1, 1,
	    tu_time("2025-06-01"), tu_time("2025-07-01"), &crl, &len), 0);
	bundle = cat(trust, crl, NULL, NULL);
	t = trust_of(bundle);
	expect(t, ld, "2025-06-20", 0, JCS_ERR_REVOKED,
	    "(/CN=Hand Direct Signer) was revoked on 2025-06-01: "
	    "key-compromise");
	expect(t, lu, "2025-06-20", 0, JCS_OK, NULL);
	jcs_trust_free(t);
	free(bundle);
	free(crl);

	assert_int_equal(jcs_crl_build(ctx, inter, ik, &e, 1, 1,
	    tu_time("2025-06-01"), tu_time("2025-07-01"), &crl, &len), 0);
	bundle = cat(trust, crl, NULL, NULL);
	load_fails("intermediate's CRL", bundle, JCS_ERR_MALFORMED,
	    "issued by /CN=Hand Intermediate, which is not a root or label "
	    "signer of the bundle");
	free(bundle);
	free(crl);
	jcs_label_free(ld);
	jcs_label_free(lu);
	jcs_key_free(dkey);
	jcs_key_free(ukey);
	X509_free(root);
	X509_free(inter);
	X509_free(direct);
	X509_free(under);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	free(trust);
	jcs_ctx_free(ctx);
}

/* CRLs made by hand, to reach what jcs_crl_build never writes. */
enum raw {
	RAW_OK, RAW_V1, RAW_NO_NUMBER, RAW_DELTA, RAW_CRITICAL_EXT, RAW_IDP,
	RAW_ENTRY_CRITICAL, RAW_INDIRECT, RAW_REMOVE_FROM_CRL,
	RAW_NEGATIVE_SERIAL, RAW_NEXT_BEFORE_THIS, RAW_NO_NEXT, RAW_SHA384
};

static char *
raw_crl(X509 *issuer, EVP_PKEY *key, enum raw v)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_TIME *tm = ASN1_TIME_new();
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	ASN1_ENUMERATED *en = ASN1_ENUMERATED_new();
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	char *pem;

	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_version(crl, v == RAW_V1 ?
	    X509_CRL_VERSION_1 : X509_CRL_VERSION_2), 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ASN1_TIME_set(tm, tu_time("2025-06-01"));
	X509_CRL_set1_lastUpdate(crl, tm);
	if (v != RAW_NO_NEXT) {
		ASN1_TIME_set(tm, tu_time(v == RAW_NEXT_BEFORE_THIS ?
		    "2025-05-01" : "2025-07-01"));
		X509_CRL_set1_nextUpdate(crl, tm);
	}
	ASN1_INTEGER_set(ai, 3);
	if (v != RAW_NO_NUMBER && v != RAW_V1)
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai,
		    0, 0), 1);
	if (v == RAW_DELTA)
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, ai,
		    1, 0), 1);
	if (v == RAW_CRITICAL_EXT || v == RAW_ENTRY_CRITICAL) {
		ASN1_OBJECT *obj = OBJ_txt2obj("1.2.3.4.5", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *x;

		ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x05\x00",
		    2);
		x = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, os);
		assert_non_null(x);
		if (v == RAW_CRITICAL_EXT)
			X509_CRL_add_ext(crl, x, -1);
		else
			X509_REVOKED_add_ext(rev, x, -1);
		X509_EXTENSION_free(x);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	if (v == RAW_IDP) {
		ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

		idp->onlyuser = 0xff;
		assert_int_equal(X509_CRL_add1_ext_i2d(crl,
		    NID_issuing_distribution_point, idp, 1, 0), 1);
		ISSUING_DIST_POINT_free(idp);
	}
	if (v == RAW_INDIRECT) {
		GENERAL_NAMES *gns = GENERAL_NAMES_new();
		GENERAL_NAME *gn = GENERAL_NAME_new();

		gn->type = GEN_DIRNAME;
		gn->d.directoryName = X509_NAME_dup(
		    X509_get_subject_name(issuer));
		sk_GENERAL_NAME_push(gns, gn);
		assert_int_equal(X509_REVOKED_add1_ext_i2d(rev,
		    NID_certificate_issuer, gns, 1, 0), 1);
		GENERAL_NAMES_free(gns);
	}
	ASN1_INTEGER_set(ai, v == RAW_NEGATIVE_SERIAL ? -77 : 0x1234567);
	X509_REVOKED_set_serialNumber(rev, ai);
	ASN1_TIME_set(tm, tu_time("2025-06-01"));
	X509_REVOKED_set_revocationDate(rev, tm);
	if (v == RAW_REMOVE_FROM_CRL) {
		ASN1_ENUMERATED_set(en, 8);
		X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, en, 0, 0);
	}
	X509_CRL_add0_revoked(crl, rev);
	assert_true(X509_CRL_sign(crl, key, v == RAW_SHA384 ? EVP_sha384() :
	    jcs_key_md(key)) > 0);
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	BIO_get_mem_ptr(bio, &mem);
	pem = calloc(1, mem->length + 1);
	memcpy(pem, mem->data, mem->length);
	BIO_free(bio);
	X509_CRL_free(crl);
	ASN1_TIME_free(tm);
	ASN1_INTEGER_free(ai);
	ASN1_ENUMERATED_free(en);
	return pem;
}

static const struct raw_case {
	enum raw v;
	const char *msg;
} raw_cases[] = {
	{ RAW_V1, "is not an X.509 v2 CRL" },
	{ RAW_NO_NUMBER, "has no CRL number" },
	{ RAW_DELTA, "is a delta CRL" },
	{ RAW_CRITICAL_EXT, "unknown critical extension 1.2.3.4.5" },
	{ RAW_IDP, "issuingDistributionPoint" },
	{ RAW_ENTRY_CRITICAL, "entry 1 of the X509 CRL in block 3 has an "
	  "unknown critical extension 1.2.3.4.5" },
	{ RAW_INDIRECT, "indirect CRL" },
	{ RAW_REMOVE_FROM_CRL, "unusable reasonCode" },
	{ RAW_NEGATIVE_SERIAL, "not positive" },
	{ RAW_NEXT_BEFORE_THIS, "nextUpdate before its thisUpdate" },
	{ RAW_NO_NEXT, "lacks a readable thisUpdate or nextUpdate" },
	{ RAW_SHA384, "is signed with ecdsa-with-SHA384; jcstar CRLs are "
	  "signed with ecdsa-with-SHA256 or Ed25519" },
};

/* A bad CRL fails the whole bundle, naming its block. */
static void
test_bad_crls(void **state)
{
	struct ca a, b, old;
	jcs_label *l;
	uint8_t serial[20];
	struct jcs_crl_entry e;
	char *ta, *tb, *told, *crl, *bad, *bundle, *raw;
	const char *signer_b;
	jcs_trust *t;

	(void)state;
	ca_make(&a, "bad-a", 0, 0);
	ca_make(&b, "bad-b", JCS_ALG_ED25519, 0);
	ca_make(&old, "bad-old", 0, 1);
	l = label(&a, 0, "2025-04-01", "2026-04-01", NULL, 0);
	e.serial = serial;
	e.serial_len = serial_of(l, serial);
	e.when = tu_time("2025-06-01");
	e.reason = JCS_REASON_KEY_COMPROMISE;
	ta = ca_trust(&a);
	tb = ca_trust(&b);
	told = ca_trust(&old);

	/* signature flipped: P-256 signer, Ed25519 signer, root */
	crl = crl_by(&a, 0, &e, 1, 1, "2025-06-01", "2025-07-01");
	bad = pem_mutate(crl, flip_last);
	bundle = cat(ta, bad, NULL, NULL);
	load_fails("flipped P-256", bundle, JCS_ERR_MALFORMED,
	    "the signature of the X509 CRL in block 3 does not verify with "
	    "the key of its issuer");
	free(bundle);
	free(bad);
	/* truncated */
	bad = pem_mutate(crl, truncate_der);
	bundle = cat(ta, crl, bad, NULL);
	load_fails("truncated", bundle, JCS_ERR_MALFORMED,
	    "the X509 CRL in block 4 is truncated");
	free(bundle);
	free(bad);
	free(crl);
	crl = crl_by(&b, 0, NULL, 0, 1, "2025-06-01", "2025-07-01");
	bad = pem_mutate(crl, flip_last);
	bundle = cat(tb, bad, NULL, NULL);
	load_fails("flipped Ed25519", bundle, JCS_ERR_MALFORMED,
	    "does not verify");
	free(bundle);
	free(bad);
	/* b's CRL in a's bundle: its issuer is not there */
	bundle = cat(ta, crl, NULL, NULL);
	load_fails("foreign issuer", bundle, JCS_ERR_MALFORMED,
	    "the X509 CRL in block 3 is issued by /O=bad-b/CN=bad-b Label "
	    "Signer 0001, which is not a root or label signer of the bundle");
	free(bundle);
	/* b's signer without b's root: named, verified, but untrusted */
	signer_b = strstr(tb + 1, "-----BEGIN CERTIFICATE");
	bundle = cat(ta, signer_b, crl, NULL);
	load_fails("untrusted issuer", bundle, JCS_ERR_MALFORMED,
	    "the X509 CRL in block 4 cannot be trusted: signer");
	free(bundle);
	free(crl);
	crl = crl_by(&a, -1, NULL, 0, 1, "2025-06-01", "2025-07-01");
	bad = pem_mutate(crl, flip_last);
	bundle = cat(ta, bad, NULL, NULL);
	load_fails("flipped root CRL", bundle, JCS_ERR_MALFORMED,
	    "does not verify with the key of its issuer /O=bad-a/CN=bad-a "
	    "Root CA");
	free(bundle);
	free(bad);
	free(crl);

	/* garbage */
	bundle = cat(ta, "-----BEGIN X509 CRL-----\nMAMCAQE=\n"
	    "-----END X509 CRL-----\n", NULL, NULL);
	load_fails("garbage", bundle, JCS_ERR_MALFORMED,
	    "block 3 is not a valid X509 CRL");
	free(bundle);
	bundle = cat(ta, "-----BEGIN X509 CRL-----\nBAMCAQE=\n"
	    "-----END X509 CRL-----\n", NULL, NULL);
	load_fails("not a sequence", bundle, JCS_ERR_MALFORMED,
	    "block 3 is not a valid X509 CRL");
	free(bundle);
	bundle = cat(ta, "-----BEGIN X509 CRL-----\n*!*\n"
	    "-----END X509 CRL-----\n", NULL, NULL);
	load_fails("bad base64", bundle, JCS_ERR_MALFORMED, "block 3");
	free(bundle);
	/* a certificate under the CRL label */
	{
		const char *end = strstr(ta, "-----END CERTIFICATE-----");
		char *root = strndup(ta, (size_t)(end - ta) + 26);
		char *p;

		assert_non_null(root);
		bad = calloc(1, strlen(root) + 8);
		sprintf(bad, "-----BEGIN X509 CRL-----%s",
		    strstr(root, "\n"));
		p = strstr(bad, "-----END CERTIFICATE-----");
		strcpy(p, "-----END X509 CRL-----\n");
		bundle = cat(ta, bad, NULL, NULL);
		load_fails("certificate as CRL", bundle, JCS_ERR_MALFORMED,
		    "block 3 is not a valid X509 CRL");
		free(bundle);
		free(bad);
		free(root);
	}

	/* hand-made CRLs: the well-formed one loads, each fault fails */
	raw = raw_crl(a.signer[0], a.signer_key[0]->pkey, RAW_OK);
	bundle = cat(ta, raw, NULL, NULL);
	t = trust_of(bundle);
	jcs_trust_free(t);
	free(bundle);
	free(raw);
	for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]);
	    i++) {
		char what[32];

		raw = raw_crl(a.signer[0], a.signer_key[0]->pkey,
		    raw_cases[i].v);
		bundle = cat(ta, raw, NULL, NULL);
		snprintf(what, sizeof(what), "raw case %zu", i);
		load_fails(what, bundle, JCS_ERR_MALFORMED, raw_cases[i].msg);
		if (raw_cases[i].v != RAW_ENTRY_CRITICAL)
			load_fails(what, bundle, JCS_ERR_MALFORMED, "block 3");
		free(bundle);
		free(raw);
	}

	/* a signer made before signer.profile had cRLSign: it may not sign
	 * CRLs, and jcs_crl_build says so before signing */
	raw = raw_crl(old.signer[0], old.signer_key[0]->pkey, RAW_OK);
	bundle = cat(told, raw, NULL, NULL);
	load_fails("no cRLSign", bundle, JCS_ERR_MALFORMED,
	    "whose keyUsage does not allow cRLSign");
	free(bundle);
	free(raw);
	{
		jcs_ctx *ctx = jcs_ctx_new();
		char *pem = NULL;

		assert_int_equal(jcs_crl_build(ctx, old.signer[0],
		    old.signer_key[0]->pkey, NULL, 0, 1,
		    tu_time("2025-06-01"), tu_time("2025-07-01"), &pem,
		    NULL), -1);
		assert_err(ctx, JCS_ERR_KEY);
		assert_msg(ctx, "cRLSign");
		assert_null(pem);
		jcs_ctx_free(ctx);
	}
	jcs_label_free(l);
	free(ta);
	free(tb);
	free(told);
	ca_free(&a);
	ca_free(&b);
	ca_free(&old);
}

/* jcs_crl_build refuses what would make a bad CRL. */
static void
test_build_errors(void **state)
{
	static const uint8_t zero[3] = { 0, 0, 0 };
	static const uint8_t big[20] = { 0x80 };
	static const uint8_t ok20[21] = { 0x00, 0x7f };
	static const uint8_t one[2] = { 0x00, 0x01 };
	static const uint8_t same[1] = { 0x01 };
	struct ca c, other;
	jcs_ctx *ctx = jcs_ctx_new();
	char *pem;
	struct jcs_crl_entry e[2];
	time_t t0 = tu_time("2025-06-01"), t1 = tu_time("2025-07-01");
	const struct {
		const char *what;
		const uint8_t *serial;
		size_t len;
		int reason;
		time_t when;
		jcs_err want;
		const char *msg;
	} cases[] = {
		{ "zero serial", zero, sizeof(zero), 1, t0, JCS_ERR_INVALID_ARG,
		  "entry 1: a serial must be positive" },
		{ "21-octet serial", big, sizeof(big), 1, t0,
		  JCS_ERR_INVALID_ARG, "at most 20 octets" },
		{ "empty serial", zero, 0, 1, t0, JCS_ERR_INVALID_ARG,
		  "no usable serial" },
		{ "reason 2", one, sizeof(one), 2, t0, JCS_ERR_INVALID_ARG,
		  "reason code 2" },
		{ "reason 8", one, sizeof(one), 8, t0, JCS_ERR_INVALID_ARG,
		  "reason code 8" },
		{ "no date", one, sizeof(one), 1, 0, JCS_ERR_INVALID_ARG,
		  "revocation date" },
	};

	(void)state;
	ca_make(&c, "build", 0, 0);
	ca_make(&other, "build-other", 0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e[0].serial = cases[i].serial;
		e[0].serial_len = cases[i].len;
		e[0].reason = cases[i].reason;
		e[0].when = cases[i].when;
		pem = NULL;
		if (jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey, e, 1,
		    1, t0, t1, &pem, NULL) != -1)
			fail_msg("%s: built", cases[i].what);
		if (jcs_ctx_error(ctx) != cases[i].want ||
		    strstr(jcs_ctx_message(ctx), cases[i].msg) == NULL)
			fail_msg("%s: got %s '%s'", cases[i].what,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
		assert_null(pem);
	}
	/* 20 octets with the top bit clear, after a leading zero: fine */
	e[0].serial = ok20;
	e[0].serial_len = sizeof(ok20);
	e[0].reason = 0;
	e[0].when = t0;
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    e, 1, 1, t0, t1, &pem, NULL), 0);
	free(pem);
	/* the same serial twice, however written */
	e[0].serial = one;
	e[0].serial_len = sizeof(one);
	e[1] = e[0];
	e[1].serial = same;
	e[1].serial_len = sizeof(same);
	pem = NULL;
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    e, 2, 1, t0, t1, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "serial 01 is listed twice");
	/* dates */
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    NULL, 0, 1, t1, t0, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "nextUpdate must come after its thisUpdate");
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    NULL, 0, 1, t0, t0, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	/* the key of another CA */
	assert_int_equal(jcs_crl_build(ctx, c.signer[0],
	    other.signer_key[0]->pkey, NULL, 0, 1, t0, t1, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "does not belong to the CRL issuer /O=build/CN=build "
	    "Label Signer 0001");
	/* the cap, checked before anything is read or allocated */
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    e, 10000001, 1, t0, t1, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	assert_msg(ctx, "at most 10000000 entries");
	assert_int_equal(jcs_crl_build(ctx, NULL, c.signer_key[0]->pkey,
	    NULL, 0, 1, t0, t1, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    NULL, 1, 1, t0, t1, &pem, NULL), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_null(pem);
	jcs_ctx_free(ctx);
	ca_free(&c);
	ca_free(&other);
}

/* Runs cmd, returns its output (stdout and stderr) for free(). */
static char *
run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 65536);
	size_t n = 0, r;

	assert_non_null(p);
	assert_non_null(out);
	while (n < 65535 && (r = fread(out + n, 1, 65535 - n, p)) > 0)
		n += r;
	if (pclose(p) != 0)
		fail_msg("%s failed:\n%s", cmd, out);
	return out;
}

/* openssl reads our CRLs: serial, reason, CRL number, issuer, and the
 * signature against the issuer's certificate. */
static void
test_openssl_reads(void **state)
{
	static const int algs[] = { JCS_ALG_EC_P256, JCS_ALG_ED25519 };

	(void)state;
	for (size_t a = 0; a < 2; a++) {
		struct ca c;
		jcs_label *l;
		uint8_t serial[20];
		struct jcs_crl_entry e[2];
		char *crl, *out, path[4200], cmd[9000], upper[41], cert[4200];
		char issuer[256];
		const char *hex;

		ca_make(&c, a == 0 ? "ossl-p256" : "ossl-ed25519", algs[a], 0);
		l = label(&c, 0, "2025-04-01", "2026-04-01", NULL, 0);
		e[0].serial = serial;
		e[0].serial_len = serial_of(l, serial);
		e[0].when = tu_time("2025-06-01T12:00:00Z");
		e[0].reason = JCS_REASON_KEY_COMPROMISE;
		e[1].serial = (const uint8_t *)"\x01\x02\x03";
		e[1].serial_len = 3;
		e[1].when = tu_time("2025-06-02");
		e[1].reason = JCS_REASON_UNSPECIFIED;
		crl = crl_by(&c, 0, e, 2, 42, "2025-06-03", "2025-07-03");
		snprintf(path, sizeof(path), "%s/%s.crl.pem", tmp, c.name);
		tu_write(path, crl, strlen(crl));
		snprintf(cmd, sizeof(cmd), "openssl crl -in '%s' -noout -text "
		    "2>&1", path);
		out = run(cmd);
		snprintf(issuer, sizeof(issuer), "Issuer: O = %s, CN = %s "
		    "Label Signer 0001", c.name, c.name);
		hex = jcs_label_serial_hex(l);
		for (size_t i = 0; i <= strlen(hex); i++)
			upper[i] = (char)(hex[i] >= 'a' ? hex[i] - 32 : hex[i]);
		if (strstr(out, upper) == NULL ||
		    strstr(out, "Key Compromise") == NULL ||
		    strstr(out, "X509v3 CRL Number") == NULL ||
		    strstr(out, "42") == NULL ||
		    strstr(out, "Serial Number: 010203") == NULL ||
		    strstr(out, "Version 2") == NULL ||
		    strstr(out, "X509v3 Authority Key Identifier") == NULL ||
		    strstr(out, "Jun  1 12:00:00 2025 GMT") == NULL ||
		    strstr(out, "Next Update: Jul  3 00:00:00 2025 GMT") ==
		    NULL ||
		    strstr(out, issuer) == NULL)
			fail_msg("openssl crl -text:\n%s", out);
		/* one reasonCode only: the unspecified entry has none */
		assert_null(strstr(strstr(out, "Key Compromise") + 1,
		    "CRL Reason Code"));
		free(out);
		snprintf(cert, sizeof(cert), "%s/signers/0001.crt", c.dir);
		snprintf(cmd, sizeof(cmd), "openssl crl -in '%s' -noout "
		    "-CAfile '%s' 2>&1", path, cert);
		out = run(cmd);
		if (strstr(out, "verify OK") == NULL)
			fail_msg("openssl crl -CAfile:\n%s", out);
		free(out);
		jcs_label_free(l);
		free(crl);
		ca_free(&c);
	}
}

/* 100,000 entries: the bundle loads and lookups find exactly the listed
 * serials. */
static void
test_big_crl(void **state)
{
	enum { N = 100000 };
	struct ca c;
	struct jcs_crl_entry *e = calloc(N, sizeof(*e));
	uint8_t (*serials)[9] = calloc(N, 9);
	jcs_label *in[3], *out;
	char *trust, *crl, *bundle;
	jcs_trust *t;
	size_t pem_len;
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	assert_non_null(e);
	assert_non_null(serials);
	ca_make(&c, "big", 0, 0);
	for (size_t i = 0; i < N; i++) {
		/* 0x40 00 .. i*7919 mod 2^32 ..: distinct, unordered */
		uint32_t v = (uint32_t)(i * 2654435761u);

		serials[i][0] = 0x40;
		serials[i][1] = (uint8_t)(i >> 16);
		serials[i][2] = (uint8_t)(i >> 8);
		serials[i][3] = (uint8_t)i;
		serials[i][4] = (uint8_t)(v >> 24);
		serials[i][5] = (uint8_t)(v >> 16);
		serials[i][6] = (uint8_t)(v >> 8);
		serials[i][7] = (uint8_t)v;
		serials[i][8] = 0x5a;
		e[i].serial = serials[i];
		e[i].serial_len = 9;
		e[i].when = tu_time("2025-06-01") + (time_t)(i % 1000) * 60;
		e[i].reason = i % 2 ? JCS_REASON_SUPERSEDED :
		    JCS_REASON_KEY_COMPROMISE;
	}
	in[0] = label(&c, 0, "2025-04-01", "2026-04-01", serials[0], 9);
	in[1] = label(&c, 0, "2025-04-01", "2026-04-01", serials[N / 2 + 1],
	    9);
	in[2] = label(&c, 0, "2025-04-01", "2026-04-01", serials[N - 1], 9);
	serials[N - 1][8] = 0x5b; /* not listed: one bit off the last one */
	out = label(&c, 0, "2025-04-01", "2026-04-01", serials[N - 1], 9);
	serials[N - 1][8] = 0x5a;
	assert_int_equal(jcs_crl_build(ctx, c.signer[0], c.signer_key[0]->pkey,
	    e, N, 9, tu_time("2025-06-02"), tu_time("2025-07-02"), &crl,
	    &pem_len), 0);
	assert_true(pem_len > (size_t)N * 40);
	trust = ca_trust(&c);
	bundle = cat(trust, crl, NULL, NULL);
	assert_true(strlen(bundle) < JCS_TRUST_MAX_FILE);
	t = trust_of(bundle);
	expect(t, in[0], "2025-06-20", 1, JCS_ERR_REVOKED,
	    "revoked on 2025-06-01: key-compromise");
	expect(t, in[1], "2025-06-20", 1, JCS_ERR_REVOKED, "superseded");
	expect(t, in[2], "2025-06-20", 1, JCS_ERR_REVOKED, "superseded");
	for (int i = 0; i < 1000; i++)
		expect(t, out, "2025-06-20", 1, JCS_OK, NULL);
	jcs_trust_free(t);
	for (int i = 0; i < 3; i++)
		jcs_label_free(in[i]);
	jcs_label_free(out);
	free(bundle);
	free(trust);
	free(crl);
	free(e);
	free(serials);
	jcs_ctx_free(ctx);
	ca_free(&c);
}

/* From a file: the CRL applies; a bad one names the file and block. */
static void
test_bundle_file(void **state)
{
	struct ca c;
	jcs_label *l;
	uint8_t serial[20];
	struct jcs_crl_entry e;
	char *trust, *crl, *bundle, path[4200];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *t;

	(void)state;
	ca_make(&c, "file", 0, 0);
	l = label(&c, 0, "2025-04-01", "2026-04-01", NULL, 0);
	e.serial = serial;
	e.serial_len = serial_of(l, serial);
	e.when = tu_time("2025-06-01");
	e.reason = JCS_REASON_CERTIFICATE_HOLD;
	crl = crl_by(&c, 0, &e, 1, 1, "2025-06-01", "2025-07-01");
	trust = ca_trust(&c);
	bundle = cat(trust, crl, NULL, NULL);
	snprintf(path, sizeof(path), "%s/bundle.pem", tmp);
	tu_write(path, bundle, strlen(bundle));
	t = jcs_trust_load_file(ctx, path);
	assert_non_null(t);
	expect(t, l, "2025-06-20", 0, JCS_ERR_REVOKED,
	    "revoked on 2025-06-01: certificate-hold");
	jcs_trust_free(t);
	free(bundle);
	bundle = cat(trust, "-----BEGIN X509 CRL-----\nMAMCAQE=\n"
	    "-----END X509 CRL-----\n", NULL, NULL);
	tu_write(path, bundle, strlen(bundle));
	assert_null(jcs_trust_load_file(ctx, path));
	assert_err(ctx, JCS_ERR_MALFORMED);
	assert_msg(ctx, "bundle.pem: trust bundle: block 3");
	free(bundle);
	jcs_label_free(l);
	free(crl);
	free(trust);
	jcs_ctx_free(ctx);
	ca_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_label_revoked),
		cmocka_unit_test(test_crl_scope),
		cmocka_unit_test(test_freshness),
		cmocka_unit_test(test_rotated_signers),
		cmocka_unit_test(test_signer_revoked),
		cmocka_unit_test(test_recertified_key_compromise),
		cmocka_unit_test(test_intermediate),
		cmocka_unit_test(test_bad_crls),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_openssl_reads),
		cmocka_unit_test(test_big_crl),
		cmocka_unit_test(test_bundle_file),
	};

	return cmocka_run_group_tests_name("crl", tests, setup, teardown);
}
