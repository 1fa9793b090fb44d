/* fuzz_scan.c - images from scanners and phones (PNG, JPEG) to QR texts:
 * libpng, libjpeg and libzbar behind the library's size caps. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jcs_ctx *ctx = jcs_ctx_new();

	jcs_scan_free(jcs_scan_mem(ctx, data, size));
	jcs_ctx_free(ctx);
	return 0;
}
