/*
 * make_qr_png.c - test helper: QR codes of texts as an 8-bit grey PNG,
 * independently of 'jcstar render', for tests/cli_scan.sh.
 *
 *     make_qr_png [-m PX] [-z MODULES] [-e L|M|Q|H] OUT.png TEXT...
 *
 * Each TEXT (QR alphanumeric / numeric characters, as jcs_qr_encode takes
 * them) becomes one code, side by side from left to right, PX pixels a
 * module (default 4) with a quiet zone of MODULES modules (default 4)
 * around each. Exit status 0, or 2 with a message.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

#include "jcstar.h"

static void
on_png_error(png_structp png, png_const_charp msg)
{
	fprintf(stderr, "make_qr_png: libpng: %s\n", msg);
	png_longjmp(png, 1);
}

/* Writes the grey image to f. The one function with setjmp: its locals
 * are volatile, and libpng's structures are freed on either path. */
static int
write_png(FILE *f, const uint8_t *pix, png_uint_32 w, png_uint_32 h)
{
	png_structp volatile png = NULL;
	png_infop volatile info = NULL;
	png_structp p;
	png_infop i;
	volatile int rc = -1;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
	    on_png_error, NULL);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		goto done;
	if (setjmp(png_jmpbuf(png)))
		goto done;
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_GRAY,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (png_uint_32 y = 0; y < h; y++)
		png_write_row(png, pix + (size_t)y * w);
	png_write_end(png, NULL);
	rc = 0;
done:
	p = png;
	i = info;
	if (p != NULL)
		png_destroy_write_struct(&p, i != NULL ? &i : NULL);
	return rc;
}

static int
usage(void)
{
	fputs("usage: make_qr_png [-m PX] [-z MODULES] [-e L|M|Q|H] OUT.png "
	    "TEXT...\n", stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	jcs_ctx *ctx = NULL;
	jcs_qr **qr = NULL;
	uint8_t *pix = NULL;
	FILE *f = NULL;
	int c, px = 4, quiet = 4, ec = JCS_QR_EC_M, n, rc = 2;
	size_t w = 0, h = 0, x0 = 0;
	const char *out;

	while ((c = getopt(argc, argv, "m:z:e:")) != -1) {
		switch (c) {
		case 'm':
			px = atoi(optarg);
			break;
		case 'z':
			quiet = atoi(optarg);
			break;
		case 'e':
			ec = jcs_qr_ec_from_name(optarg);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind < 2 || px < 1 || px > 64 || quiet < 0 ||
	    quiet > 64 || ec == 0)
		return usage();
	out = argv[optind++];
	n = argc - optind;
	if ((ctx = jcs_ctx_new()) == NULL ||
	    (qr = calloc((size_t)n, sizeof(*qr))) == NULL) {
		fputs("make_qr_png: out of memory\n", stderr);
		goto done;
	}
	for (int k = 0; k < n; k++) {
		size_t side;

		if ((qr[k] = jcs_qr_encode(ctx, argv[optind + k], ec)) ==
		    NULL) {
			fprintf(stderr, "make_qr_png: %s\n",
			    jcs_ctx_message(ctx));
			goto done;
		}
		side = (size_t)(jcs_qr_width(qr[k]) + 2 * quiet) * (size_t)px;
		w += side;
		if (side > h)
			h = side;
	}
	if ((pix = malloc(w * h)) == NULL) {
		fputs("make_qr_png: out of memory\n", stderr);
		goto done;
	}
	memset(pix, 0xff, w * h);
	for (int k = 0; k < n; k++) {
		int qw = jcs_qr_width(qr[k]);

		for (int my = 0; my < qw; my++)
			for (int mx = 0; mx < qw; mx++) {
				size_t x = x0 + (size_t)(mx + quiet) * (size_t)px;
				size_t y = (size_t)(my + quiet) * (size_t)px;

				if (!jcs_qr_module(qr[k], mx, my))
					continue;
				for (int dy = 0; dy < px; dy++)
					memset(pix + (y + (size_t)dy) * w + x,
					    0, (size_t)px);
			}
		x0 += (size_t)(qw + 2 * quiet) * (size_t)px;
	}
	if ((f = fopen(out, "wb")) == NULL) {
		perror(out);
		goto done;
	}
	if (write_png(f, pix, (png_uint_32)w, (png_uint_32)h) == -1) {
		fprintf(stderr, "make_qr_png: cannot write %s\n", out);
		goto done;
	}
	if (fclose(f) != 0) {
		f = NULL;
		perror(out);
		goto done;
	}
	f = NULL;
	rc = 0;
done:
	if (f != NULL)
		fclose(f);
	for (int k = 0; qr != NULL && k < n; k++)
		jcs_qr_free(qr[k]);
	free(qr);
	free(pix);
	jcs_ctx_free(ctx);
	return rc;
}
