/*
 * bench.c - `make bench`: label signing and verification speed beside the
 * raw OpenSSL operation measured in the same run, on the same machine.
 *
 *   raw sign      EVP_DigestSign of a tbsLabel-sized message, one key
 *   label issue   jcs_label_new + jcs_label_sign (fields, DER, signature)
 *   raw verify    EVP_DigestVerify of that message
 *   label verify  jcs_label_from_der + jcs_verify (strict decode, signature,
 *                 chain to the root with OpenSSL's verifier, EKU, policy)
 *
 * Each figure is the best of three runs of about 0.3 s (wall clock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef int (*op_fn)(void *arg);

/* Returns operations per second: best of 3 runs of ~0.3 s. */
static double
rate(op_fn op, void *arg)
{
	double best = 0;

	for (int run = 0; run < 3; run++) {
		double t0 = now(), t;
		long n = 0;

		do {
			for (int i = 0; i < 16; i++) {
				if (op(arg) != 0) {
					fprintf(stderr, "bench: operation "
					    "failed\n");
					exit(1);
				}
			}
			n += 16;
			t = now() - t0;
		} while (t < 0.3);
		if ((double)n / t > best)
			best = (double)n / t;
	}
	return best;
}

struct ctx {
	jcs_ctx *jctx;
	jcs_key *key;
	jcs_trust *trust;
	jcs_label_fields fields;
	uint8_t msg[124];
	uint8_t sig[128];
	size_t siglen;
	const uint8_t *der;
	size_t der_len;
	jcs_verify_opts vo;
};

static int
raw_sign(void *arg)
{
	struct ctx *c = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t len = sizeof(c->sig);
	int ok = m != NULL &&
	    EVP_DigestSignInit(m, NULL, jcs_key_md(c->key->pkey), NULL,
	    c->key->pkey) == 1 &&
	    EVP_DigestSign(m, c->sig, &len, c->msg, sizeof(c->msg)) == 1;

	EVP_MD_CTX_free(m);
	c->siglen = len;
	return ok ? 0 : -1;
}

static int
raw_verify(void *arg)
{
	struct ctx *c = arg;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m != NULL &&
	    EVP_DigestVerifyInit(m, NULL, jcs_key_md(c->key->pkey), NULL,
	    c->key->pkey) == 1 &&
	    EVP_DigestVerify(m, c->sig, c->siglen, c->msg, sizeof(c->msg)) ==
	    1;

	EVP_MD_CTX_free(m);
	return ok ? 0 : -1;
}

static int
label_issue(void *arg)
{
	struct ctx *c = arg;
	jcs_label *l = jcs_label_new(c->jctx, &c->fields);
	int rc = l != NULL && jcs_label_sign(c->jctx, l, c->key) == 0 ? 0 : -1;

	jcs_label_free(l);
	return rc;
}

static int
label_verify(void *arg)
{
	struct ctx *c = arg;
	jcs_label *l = jcs_label_from_der(c->jctx, c->der, c->der_len);
	int rc = l != NULL && jcs_verify(c->jctx, c->trust, l, &c->vo,
	    NULL) == 0 ? 0 : -1;

	jcs_label_free(l);
	return rc;
}

static void
bench(const char *alg, const char *dir)
{
	struct ctx c;
	char path[512];
	jcs_label *l;
	double rs, ri, rv, lv;

	memset(&c, 0, sizeof(c));
	c.jctx = jcs_ctx_new();
	snprintf(path, sizeof(path), "tests/vectors/%s/signers/0001.key", dir);
	c.key = jcs_key_load(c.jctx, path, NULL);
	snprintf(path, sizeof(path), "tests/vectors/trust-%s.pem",
	    strchr(dir, '-') + 1);
	c.trust = jcs_trust_load_file(c.jctx, path);
	if (c.key == NULL || c.trust == NULL) {
		fprintf(stderr, "bench: %s (run from the source tree)\n",
		    jcs_ctx_message(c.jctx));
		exit(1);
	}
	memset(&c.fields, 0, sizeof(c.fields));
	c.fields.scheme = JCS_SCHEME_JCSTAR;
	c.fields.level = 1;
	c.fields.product.reg_id = "JCS-2025-000123";
	c.fields.product.vendor = "Example Electronics Co., Ltd.";
	c.fields.product.product = "Home Router";
	c.fields.product.model = "HR-1000";
	jcs_time_parse(NULL, "2025-04-01", &c.fields.not_before);
	jcs_time_parse(NULL, "2027-04-01", &c.fields.not_after);
	jcs_time_parse(NULL, "2026-01-01", &c.vo.at);
	memset(c.msg, 0x5a, sizeof(c.msg));
	l = jcs_label_new(c.jctx, &c.fields);
	jcs_label_sign(c.jctx, l, c.key);
	c.der = jcs_label_der(l, &c.der_len);

	rs = rate(raw_sign, &c);
	ri = rate(label_issue, &c);
	rv = rate(raw_verify, &c);
	lv = rate(label_verify, &c);
	printf("| %-8s | %-36s | %9.0f | %-22s | %9.0f | %5.0f%% |\n", alg,
	    "label issue (fields+DER+sign), /s", ri, "raw EVP sign, /s", rs,
	    100 * ri / rs);
	printf("| %-8s | %-36s | %9.0f | %-22s | %9.0f | %5.0f%% |\n", alg,
	    "label verify (decode+chain+sig), /s", lv, "raw EVP verify, /s",
	    rv, 100 * lv / rv);
	jcs_label_free(l);
	jcs_key_free(c.key);
	jcs_trust_free(c.trust);
	jcs_ctx_free(c.jctx);
}

int
main(void)
{
	printf("jcstar %s bench (single thread; best of 3 x 0.3 s)\n\n",
	    jcs_version());
	printf("| %-8s | %-36s | %9s | %-22s | %9s | %6s |\n", "alg",
	    "figure", "rate", "baseline (same run)", "rate", "ratio");
	printf("|----------|--------------------------------------|-----------"
	    "|------------------------|-----------|--------|\n");
	bench("P-256", "ca-p256");
	bench("Ed25519", "ca-ed25519");
	return 0;
}
