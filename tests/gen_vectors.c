/*
 * gen_vectors.c - (re)generates tests/vectors/: TEST ONLY CAs and the
 * reference labels. Run `make vectors`; commit the result. The unit tests
 * check the committed files (test_vectors.c), so a format change that
 * alters them shows up as a failing test until the vectors are regenerated
 * on purpose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jcstar.h"

/* Fixed inputs of the reference labels (docs/FORMAT.md). */
static const uint8_t ref_serial[9] = { 0x5a, 0x17, 0x3c, 0x9e, 0x04, 0xb2,
	0x6d, 0x81, 0xf0 };

static void
die(jcs_ctx *ctx, const char *what)
{
	fprintf(stderr, "gen_vectors: %s: %s\n", what, jcs_ctx_message(ctx));
	exit(1);
}

/* Prepends a TEST ONLY line to a key file (PEM readers skip it). */
static void
mark_test_only(const char *path)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL || (n = fread(buf, 1, sizeof(buf) - 1, f)) == 0) {
		perror(path);
		exit(1);
	}
	fclose(f);
	buf[n] = '\0';
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(f, "TEST ONLY - a published test key from the jcstar "
	    "repository. Never trust anything it signed.\n%s", buf);
	fclose(f);
}

static void
make_ca(jcs_ctx *ctx, const char *out, const char *sub, const char *name,
    int alg, time_t now)
{
	char dir[512], path[600];
	jcs_ca_init_opts o = { dir, name, alg, "certs", NULL, now, NULL };

	snprintf(dir, sizeof(dir), "%s/%s", out, sub);
	if (jcs_ca_init(ctx, &o) == -1)
		die(ctx, dir);
	snprintf(path, sizeof(path), "%s/root.key", dir);
	mark_test_only(path);
	snprintf(path, sizeof(path), "%s/signers/0001.key", dir);
	mark_test_only(path);
}

static jcs_label *
ref_label(jcs_ctx *ctx, const char *keypath, time_t nb, time_t na,
    time_t support)
{
	jcs_label_fields f = { 0 };
	jcs_label *l;
	jcs_key *k;

	f.scheme = JCS_SCHEME_JCSTAR;
	f.level = 1;
	f.product.reg_id = "JCS-2025-000123";
	f.product.vendor = "Example Electronics Co., Ltd.";
	f.product.product = "Home Router";
	f.product.model = "HR-1000";
	f.not_before = nb;
	f.not_after = na;
	f.support_until = support;
	if ((k = jcs_key_load(ctx, keypath, NULL)) == NULL)
		die(ctx, keypath);
	if ((l = jcs_label_new(ctx, &f)) == NULL ||
	    jcs_label_set_serial(ctx, l, ref_serial, sizeof(ref_serial)) ||
	    jcs_label_sign(ctx, l, k) == -1)
		die(ctx, "reference label");
	jcs_key_free(k);
	return l;
}

int
main(int argc, char **argv)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *out = argc > 1 ? argv[1] : "tests/vectors";
	char path[600], kp[600];
	time_t now, nb, na, support;
	jcs_ca *ca;
	jcs_label *l;

	if (ctx == NULL)
		return 1;
	if (jcs_time_parse(ctx, "2025-04-01T00:00:00Z", &now) ||
	    jcs_time_parse(ctx, "2025-04-01T00:00:00Z", &nb) ||
	    jcs_time_parse(ctx, "2027-04-01T00:00:00Z", &na) ||
	    jcs_time_parse(ctx, "2030-03-31", &support))
		die(ctx, "time");
	make_ca(ctx, out, "ca-p256", "jcstar Test CB P-256 (TEST ONLY)",
	    JCS_ALG_EC_P256, now);
	make_ca(ctx, out, "ca-ed25519", "jcstar Test CB Ed25519 (TEST ONLY)",
	    JCS_ALG_ED25519, now);

	snprintf(kp, sizeof(kp), "%s/ca-p256/signers/0001.key", out);
	l = ref_label(ctx, kp, nb, na, support);
	snprintf(path, sizeof(path), "%s/ref-p256.der", out);
	if (jcs_label_write_file(ctx, l, path) == -1)
		die(ctx, path);
	snprintf(path, sizeof(path), "%s/ref-p256.pem", out);
	if (jcs_label_write_file(ctx, l, path) == -1)
		die(ctx, path);
	jcs_label_free(l);

	snprintf(kp, sizeof(kp), "%s/ca-ed25519/signers/0001.key", out);
	l = ref_label(ctx, kp, nb, na, support);
	snprintf(path, sizeof(path), "%s/ref-ed25519.der", out);
	if (jcs_label_write_file(ctx, l, path) == -1)
		die(ctx, path);
	jcs_label_free(l);

	snprintf(path, sizeof(path), "%s/ca-p256", out);
	if ((ca = jcs_ca_open(ctx, path, NULL)) == NULL)
		die(ctx, path);
	snprintf(path, sizeof(path), "%s/trust-p256.pem", out);
	if (jcs_ca_export_trust(ctx, ca, path) == -1)
		die(ctx, path);
	jcs_ca_free(ca);
	snprintf(path, sizeof(path), "%s/ca-ed25519", out);
	if ((ca = jcs_ca_open(ctx, path, NULL)) == NULL)
		die(ctx, path);
	snprintf(path, sizeof(path), "%s/trust-ed25519.pem", out);
	if (jcs_ca_export_trust(ctx, ca, path) == -1)
		die(ctx, path);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	printf("gen_vectors: wrote %s\n", out);
	return 0;
}
