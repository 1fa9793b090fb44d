/* fuzz_csv.c - the units file of batch issuance (docs/BATCH.md): header,
 * quoting, line endings, unit serial rules, duplicates. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();
	unsigned long rows;

	(void)jcs_batch_check_rows(ctx, fuzz_file(".csv", data, size), &rows,
	    NULL);
	jcs_ctx_free(ctx);
	return 0;
}
