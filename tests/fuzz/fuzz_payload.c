/* fuzz_payload.c - QR payload text of both forms (bare JCS1: + Base45, and
 * an HTTPS verifier URL + digits) to label bytes and back. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();
	uint8_t *der = NULL;
	size_t len;
	int form;

	if (jcs_payload_decode(ctx, (const char *)data, size, &der, &len,
	    &form) == 0) {
		/* what decodes must encode back to the same bytes (bare) */
		char *text = jcs_payload_encode(ctx, der, len, JCS_FORM_BARE,
		    NULL);
		uint8_t *again = NULL;
		size_t alen;

		if (text == NULL || jcs_payload_decode(ctx, text, strlen(text),
		    &again, &alen, NULL) == -1 || alen != len ||
		    memcmp(again, der, len) != 0)
			abort();
		jcs_free(again);
		jcs_free(text);
		jcs_label_free(jcs_label_from_der(ctx, der, len));
	}
	jcs_free(der);
	jcs_ctx_free(ctx);
	return 0;
}
