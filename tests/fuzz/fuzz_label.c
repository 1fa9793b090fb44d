/* fuzz_label.c - label DER (and PEM) decode, then verification against the
 * test vectors' bundle: the path every scanned label takes. */
#include "fuzz.h"

static jcs_trust *trust;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *l;

	if (trust == NULL &&
	    (trust = jcs_trust_load_file(ctx,
	    fuzz_src("tests/vectors/trust-p256.pem"))) == NULL)
		abort();
	if ((l = jcs_label_parse(ctx, data, size)) != NULL) {
		jcs_verify_opts vo = { .at = 1767225600 /* 2026-01-01 */,
			.scheme = JCS_SCHEME_JCSTAR, .min_level = 1 };
		char *pem;

		(void)jcs_verify(ctx, trust, l, &vo, NULL);
		/* a label that parsed must write out again */
		if ((pem = jcs_label_to_pem(ctx, l)) == NULL &&
		    jcs_label_der(l, NULL) != NULL)
			abort();
		jcs_free(pem);
	}
	jcs_label_free(l);
	jcs_ctx_free(ctx);
	return 0;
}
