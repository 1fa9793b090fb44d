/* fuzz_template.c - the label template parser (templates/NAME.tmpl). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();

	jcs_template_free(jcs_template_load(ctx, fuzz_file(".tmpl", data,
	    size)));
	jcs_ctx_free(ctx);
	return 0;
}
