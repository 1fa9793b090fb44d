/*
 * example.c - issue and verify a label with libjcstar.
 *
 *   cc example.c $(pkg-config --cflags --libs jcstar) -o example
 *   ./example /usr/local/share/jcstar/certs
 *
 * Creates a throw-away CA in a temporary directory, issues a JC-STAR label,
 * round-trips it through DER, and verifies it against the CA's trust
 * bundle: once as is, once with a procurement policy it does not meet.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* mkdtemp */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jcstar.h>

static int
fail(jcs_ctx *ctx, const char *what)
{
	fprintf(stderr, "example: %s: %s (%s)\n", what, jcs_ctx_message(ctx),
	    jcs_err_name(jcs_ctx_error(ctx)));
	return 1;
}

int
main(int argc, char **argv)
{
	char tmp[] = "/tmp/jcstar-example-XXXXXX", dir[64];
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca *ca = NULL;
	jcs_label *label = NULL, *copy = NULL;
	jcs_trust *trust = NULL;
	jcs_policy *policy = NULL;
	char *bundle = NULL;
	const uint8_t *der;
	size_t len;
	const char *signer;
	int rc = 1;

	if (ctx == NULL || argc != 2 || mkdtemp(tmp) == NULL) {
		fprintf(stderr, "usage: example CERT-PROFILE-DIR\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/ca", tmp);

	/* 1. The certification body creates its CA (ECDSA P-256). */
	jcs_ca_init_opts init = { .dir = dir, .name = "Example Body",
		.profile_dir = argv[1] };
	if (jcs_ca_init(ctx, &init) == -1 ||
	    (ca = jcs_ca_open(ctx, dir, NULL)) == NULL) {
		rc = fail(ctx, "ca");
		goto done;
	}

	/* 2. It issues a label for an assessed product. */
	jcs_issue_opts io = {
		.scheme = JCS_SCHEME_JCSTAR,
		.level = 2,
		.product = { .reg_id = "JCS-2025-000123",
			.vendor = "Example Electronics Co., Ltd.",
			.product = "Home Router", .model = "HR-1000" },
	};
	if ((label = jcs_ca_issue(ctx, ca, &io)) == NULL) {
		rc = fail(ctx, "issue");
		goto done;
	}
	der = jcs_label_der(label, &len);
	printf("issued label %s: %zu bytes of DER\n",
	    jcs_label_serial_hex(label), len);

	/* 3. It publishes its trust bundle; a verifier loads it. */
	if ((bundle = jcs_ca_trust_pem(ctx, ca)) == NULL ||
	    (trust = jcs_trust_load_mem(ctx, (const uint8_t *)bundle,
	    strlen(bundle))) == NULL) {
		rc = fail(ctx, "trust");
		goto done;
	}

	/* 4. The verifier parses the bytes it received and verifies them. */
	if ((copy = jcs_label_from_der(ctx, der, len)) == NULL) {
		rc = fail(ctx, "parse");
		goto done;
	}
	if (jcs_verify(ctx, trust, copy, NULL, &signer) == -1) {
		rc = fail(ctx, "verify");
		goto done;
	}
	printf("valid: %s level %d, %s, signed by %s\n",
	    jcs_scheme_name(jcs_label_get_fields(copy)->scheme),
	    jcs_label_get_fields(copy)->level,
	    jcs_label_get_fields(copy)->product.reg_id, signer);

	/* 5. A procurement officer applies the built-in procurement policy
	 * (certs/policy.conf): importance medium requires star 3. */
	const jcs_requirement *req;
	size_t nreq;

	if ((policy = jcs_policy_load_builtin(ctx)) == NULL ||
	    jcs_policy_lookup(ctx, policy, "medium", &req, &nreq) == -1) {
		fail(ctx, "policy");
		goto done;
	}
	jcs_verify_opts vo = { .require = req, .n_require = nreq };
	if (jcs_verify(ctx, trust, copy, &vo, NULL) == 0 ||
	    jcs_ctx_error(ctx) != JCS_ERR_BELOW_POLICY) {
		fprintf(stderr, "example: policy check did not refuse\n");
		goto done;
	}
	printf("refused for medium importance: %s\n", jcs_ctx_message(ctx));
	rc = 0;
done:
	jcs_free(bundle);
	jcs_policy_free(policy);
	jcs_trust_free(trust);
	jcs_label_free(copy);
	jcs_label_free(label);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	{
		/* remove the throw-away CA */
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "example: could not remove %s\n", tmp);
	}
	return rc;
}
