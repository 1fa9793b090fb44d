/* fuzz_schemes.c - scheme profiles, recognition files and policy files.
 * The first byte picks the parser. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *text = (const char *)data + 1;
	jcs_schemes *set;

	if (size == 0)
		goto done;
	size--;
	switch (data[0] % 3) {
	case 0:
		if ((set = jcs_schemes_new_empty(ctx)) == NULL)
			abort();
		(void)jcs_schemes_add_mem(ctx, set, "fuzz.scheme", text, size);
		jcs_schemes_free(set);
		break;
	case 1:
		jcs_recognition_free(jcs_recognition_load_mem(ctx, "fuzz",
		    text, size));
		break;
	default:
		jcs_policy_free(jcs_policy_load_mem(ctx, "fuzz", text, size));
		break;
	}
done:
	jcs_ctx_free(ctx);
	return 0;
}
