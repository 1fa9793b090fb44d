/* fuzz_trust.c - trust bundles: PEM certificates and CRLs, chains and
 * revocation lists checked at load. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();

	jcs_trust_free(jcs_trust_load_mem(ctx, data, size));
	jcs_ctx_free(ctx);
	return 0;
}
