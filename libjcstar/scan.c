/*
 * scan.c - QR codes read back from images: PNG (libpng) or JPEG (libjpeg)
 * -> 8-bit grey -> libzbar, with QR codes as the only symbology.
 *
 * Every decoder gets the caps before it allocates: the file size
 * (JCS_IMAGE_MAX_FILE) before the bytes are read, the pixel count
 * (JCS_IMAGE_MAX_PIXELS) as soon as the header is parsed. libpng and libjpeg
 * report errors by longjmp: each has one small function holding its setjmp,
 * whose locals are volatile and which frees all it allocated on that path.
 * Their warnings are dropped (the library never prints).
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zbar.h>

#include "internal.h"

struct jcs_scan_code {
	char *text; /* NUL-terminated; may hold NULs before len */
	size_t len;
};

struct jcs_scan {
	size_t count;
	struct jcs_scan_code *codes;
};

/* An image converted to 8 bits of grey a pixel, rows packed. */
struct grey {
	uint8_t *pix;
	uint32_t w, h;
};

static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
	'\n' };
static const uint8_t jpeg_magic[3] = { 0xff, 0xd8, 0xff };

/* Refuses w x h over JCS_IMAGE_MAX_PIXELS (and an empty image). */
static int
check_pixels(jcs_ctx *ctx, const char *name, uint32_t w, uint32_t h)
{
	if (w == 0 || h == 0)
		return jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "%s: image of %" PRIu32 "x%" PRIu32 " pixels is empty",
		    name, w, h);
	if ((uint64_t)w * h > JCS_IMAGE_MAX_PIXELS)
		return jcs_fail(ctx, JCS_ERR_TOO_LARGE,
		    "%s: image of %" PRIu32 "x%" PRIu32 " pixels is too large; "
		    "at most %d pixels are accepted", name, w, h,
		    JCS_IMAGE_MAX_PIXELS);
	return 0;
}

/* ---- PNG ---------------------------------------------------------------- */

/* Where libpng reads from, and the message of its last error. Lives in the
 * caller of png_read_grey, outside the frame that holds the setjmp. */
struct png_src {
	const uint8_t *buf;
	size_t len, pos;
	char msg[200];
	char warning[200]; /* the last warning: often the why of an error,
	                      e.g. "Image width is zero in IHDR" */
};

static void
png_on_error(png_structp png, png_const_charp msg)
{
	struct png_src *src = png_get_error_ptr(png);

	snprintf(src->msg, sizeof(src->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void
png_on_warning(png_structp png, png_const_charp msg)
{
	struct png_src *src = png_get_error_ptr(png);

	snprintf(src->warning, sizeof(src->warning), "%s", msg);
}

static void
png_on_read(png_structp png, png_bytep out, size_t n)
{
	struct png_src *src = png_get_io_ptr(png);

	if (n > src->len - src->pos)
		png_error(png, "the file ends early (truncated)");
	memcpy(out, src->buf + src->pos, n);
	src->pos += n;
}

/* Decodes a PNG of any colour type and bit depth, interlaced or not, to
 * 8-bit grey, compositing transparency on white. The one function with
 * libpng's setjmp: its locals are volatile. */
static int
png_read_grey(jcs_ctx *ctx, const char *name, struct png_src *src,
    struct grey *out)
{
	png_structp volatile png = NULL;
	png_infop volatile info = NULL;
	uint8_t *volatile pix = NULL;
	png_structp p;
	png_infop i;
	png_uint_32 w, h;
	int depth, ctype, passes;
	int has_alpha;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, src, png_on_error,
	    png_on_warning);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		goto err;
	}
	if (setjmp(png_jmpbuf(png))) {
		/* e.g. "Invalid IHDR data", after the warning that says
		 * which field is wrong */
		jcs_fail(ctx, JCS_ERR_MALFORMED, "%s: damaged PNG: %s%s%s%s",
		    name, src->msg, src->warning[0] != '\0' ? " (" : "",
		    src->warning, src->warning[0] != '\0' ? ")" : "");
		goto err;
	}
	/* the caps below are ours; libpng's own (1,000,000 a side) would
	 * turn some over-large images into "damaged" ones */
	png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
	png_set_read_fn(png, src, png_on_read);
	png_read_info(png, info);
	src->warning[0] = '\0'; /* about the header chunks, which were fine */
	png_get_IHDR(png, info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
	if (check_pixels(ctx, name, w, h) == -1)
		goto err;

	/* expand everything to 8-bit samples, then to one grey channel */
	has_alpha = (ctype & PNG_COLOR_MASK_ALPHA) != 0;
	if (ctype == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, info, PNG_INFO_tRNS)) {
		png_set_tRNS_to_alpha(png);
		has_alpha = 1;
	}
	if (depth == 16)
		png_set_strip_16(png);
	if (ctype & PNG_COLOR_MASK_COLOR)
		png_set_rgb_to_gray_fixed(png, PNG_ERROR_ACTION_NONE, -1, -1);
	if (has_alpha) {
		/* in the output's 8 bits; libpng scales it for 16-bit input */
		png_color_16 white = { 0, 255, 255, 255, 255 };

		png_set_background_fixed(png, &white,
		    PNG_BACKGROUND_GAMMA_SCREEN, 0, PNG_FP_1);
	}
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_channels(png, info) != 1 ||
	    png_get_bit_depth(png, info) != 8 ||
	    png_get_rowbytes(png, info) != w) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "%s: cannot convert this PNG "
		    "(colour type %d, %d bits) to 8-bit grey", name, ctype,
		    depth);
		goto err;
	}
	if ((pix = malloc((size_t)w * h)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory for an image of "
		    "%" PRIu32 "x%" PRIu32 " pixels", w, h);
		goto err;
	}
	/* Row by row, into the image itself: an interlaced image fills in
	 * each row over its passes, and no array of row pointers (8 bytes a
	 * row: 800 MB for a 1 x 100,000,000 image) is needed. */
	for (int pass = 0; pass < passes; pass++)
		for (png_uint_32 y = 0; y < h; y++)
			png_read_row(png, pix + (size_t)y * w, NULL);
	/* Chunks after the image data (png_read_end) are not read: the
	 * pixels are all there, and a photo cut after them still scans. */
	out->pix = pix;
	out->w = w;
	out->h = h;
	p = png;
	i = info;
	png_destroy_read_struct(&p, &i, NULL);
	return 0;
err:
	p = png;
	i = info;
	if (p != NULL)
		png_destroy_read_struct(&p, i != NULL ? &i : NULL, NULL);
	free(pix);
	return -1;
}

/* ---- JPEG --------------------------------------------------------------- */

/* libjpeg's state and error manager, kept in the caller of jpeg_read_grey
 * so that the frame with the setjmp holds nothing libjpeg changes. */
struct jpeg_state {
	struct jpeg_decompress_struct cinfo;
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
};

static void
jpeg_on_error(j_common_ptr cinfo)
{
	struct jpeg_state *st = cinfo->client_data;

	(*cinfo->err->format_message)(cinfo, st->msg);
	longjmp(st->jb, 1);
}

static void
jpeg_on_message(j_common_ptr cinfo, int level)
{
	/* warnings (corrupt data, a cut file) are not fatal: a photo with
	 * a damaged corner may still hold a readable code */
	(void)cinfo;
	(void)level;
}

/* Decodes a JPEG (greyscale or YCbCr/RGB) to 8-bit grey. The one function
 * with libjpeg's setjmp: its locals are volatile. */
static int
jpeg_read_grey(jcs_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct jpeg_state *st, struct grey *out)
{
	struct jpeg_decompress_struct *cinfo = &st->cinfo;
	uint8_t *volatile pix = NULL;
	volatile int created = 0;
	uint32_t w, h;

	memset(cinfo, 0, sizeof(*cinfo));
	cinfo->err = jpeg_std_error(&st->mgr);
	cinfo->client_data = st;
	st->mgr.error_exit = jpeg_on_error;
	st->mgr.emit_message = jpeg_on_message;
	if (setjmp(st->jb)) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "%s: damaged or unsupported JPEG: %s", name, st->msg);
		goto err;
	}
	jpeg_create_decompress(cinfo);
	created = 1;
	jpeg_mem_src(cinfo, buf, (unsigned long)len);
	jpeg_read_header(cinfo, TRUE);
	w = cinfo->image_width;
	h = cinfo->image_height;
	if (check_pixels(ctx, name, w, h) == -1)
		goto err;
	cinfo->out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(cinfo);
	if (cinfo->output_components != 1 || cinfo->output_width != w ||
	    cinfo->output_height != h) {
		jcs_fail(ctx, JCS_ERR_MALFORMED,
		    "%s: cannot convert this JPEG to 8-bit grey", name);
		goto err;
	}
	if ((pix = malloc((size_t)w * h)) == NULL) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory for an image of "
		    "%" PRIu32 "x%" PRIu32 " pixels", w, h);
		goto err;
	}
	while (cinfo->output_scanline < h) {
		JSAMPROW row = pix + (size_t)cinfo->output_scanline * w;

		jpeg_read_scanlines(cinfo, &row, 1);
	}
	jpeg_finish_decompress(cinfo);
	jpeg_destroy_decompress(cinfo);
	out->pix = pix;
	out->w = w;
	out->h = h;
	return 0;
err:
	if (created)
		jpeg_destroy_decompress(cinfo);
	free(pix);
	return -1;
}

/* ---- zbar --------------------------------------------------------------- */

void
jcs_scan_free(jcs_scan *scan)
{
	if (scan == NULL)
		return;
	for (size_t i = 0; i < scan->count; i++)
		free(scan->codes[i].text);
	free(scan->codes);
	free(scan);
}

/* libzbar is opened when the first image is scanned (dlopen), not linked
 * to the library: with the X11, D-Bus, video4linux and libgcrypt libraries
 * it needs, it would add 15 libraries to every program that uses
 * libjcstar, scanning or not. With libmicrohttpd, which jcstar serve loads
 * the same way, `jcstar --version` went from 41 libraries to 14, from
 * 9.3 ms to 3.8 ms, and under valgrind from 0.83 s to 0.6 s. systemd loads
 * its optional libraries the same way. The pointers have the header's
 * types (__typeof__), so a changed prototype fails to compile. */
#define ZBAR_SONAME "libzbar.so.0"
static struct {
	__typeof__(zbar_image_scanner_create) *image_scanner_create;
	__typeof__(zbar_image_scanner_destroy) *image_scanner_destroy;
	__typeof__(zbar_image_scanner_set_config) *image_scanner_set_config;
	__typeof__(zbar_image_create) *image_create;
	__typeof__(zbar_image_destroy) *image_destroy;
	__typeof__(zbar_image_set_format) *image_set_format;
	__typeof__(zbar_image_set_size) *image_set_size;
	__typeof__(zbar_image_set_data) *image_set_data;
	__typeof__(zbar_scan_image) *scan_image;
	__typeof__(zbar_image_first_symbol) *image_first_symbol;
	__typeof__(zbar_symbol_next) *symbol_next;
	__typeof__(zbar_symbol_get_type) *symbol_get_type;
	__typeof__(zbar_symbol_get_data) *symbol_get_data;
	__typeof__(zbar_symbol_get_data_length) *symbol_get_data_length;
} zb;
static pthread_once_t zb_once = PTHREAD_ONCE_INIT;
static char zb_error[300]; /* why libzbar could not be loaded, or "" */

/* Sets *fn to the function name of h; 0, or -1 if h has none. */
static int
zb_sym(void *h, const char *name, void *fn)
{
	void *p = dlsym(h, name);

	if (p == NULL)
		return -1;
	/* POSIX: a data pointer can hold a function's address */
	memcpy(fn, &p, sizeof(p));
	return 0;
}

static void
zb_load(void)
{
	const char *why;
	void *h;

	dlerror();
	if ((h = dlopen(ZBAR_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(zb_error, sizeof(zb_error), "%s", why != NULL ? why :
		    "unknown error");
		return;
	}
#define ZB(f) (zb_sym(h, "zbar_" #f, &zb.f) == 0)
	if (ZB(image_scanner_create) && ZB(image_scanner_destroy) &&
	    ZB(image_scanner_set_config) && ZB(image_create) &&
	    ZB(image_destroy) && ZB(image_set_format) && ZB(image_set_size) &&
	    ZB(image_set_data) && ZB(scan_image) && ZB(image_first_symbol) &&
	    ZB(symbol_next) && ZB(symbol_get_type) && ZB(symbol_get_data) &&
	    ZB(symbol_get_data_length))
		return; /* kept open for the life of the process */
#undef ZB
	snprintf(zb_error, sizeof(zb_error), "%s lacks a function jcstar "
	    "calls", ZBAR_SONAME);
	memset(&zb, 0, sizeof(zb));
	dlclose(h);
}

/* Runs zbar over a grey image, QR codes only, and collects the text of
 * each code found into a new jcs_scan. */
static jcs_scan *
zbar_collect(jcs_ctx *ctx, const struct grey *img)
{
	zbar_image_scanner_t *zs = NULL;
	zbar_image_t *zi = NULL;
	const zbar_symbol_t *sym;
	jcs_scan *scan = NULL;
	size_t n = 0;

	if (pthread_once(&zb_once, zb_load) != 0 || zb.scan_image == NULL) {
		jcs_fail(ctx, JCS_ERR_IO, "cannot load the QR code reader "
		    "libzbar: %s (install the package libzbar0)", zb_error);
		return NULL;
	}
	if ((scan = calloc(1, sizeof(*scan))) == NULL ||
	    (zs = zb.image_scanner_create()) == NULL ||
	    (zi = zb.image_create()) == NULL)
		goto nomem;
	/* symbology 0 sets every symbology: off, then QR alone on. Text is
	 * zbar's (charset-converted for byte mode); jcstar payloads are in
	 * the alphanumeric and numeric modes, which are plain ASCII. */
	zb.image_scanner_set_config(zs, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zb.image_scanner_set_config(zs, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	zb.image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zb.image_set_size(zi, img->w, img->h);
	zb.image_set_data(zi, img->pix, (unsigned long)img->w * img->h,
	    NULL);
	if (zb.scan_image(zs, zi) < 0) {
		jcs_fail(ctx, JCS_ERR_NOMEM, "the QR decoder failed (out of "
		    "memory?)");
		goto err;
	}
	for (sym = zb.image_first_symbol(zi); sym != NULL;
	    sym = zb.symbol_next(sym))
		if (zb.symbol_get_type(sym) == ZBAR_QRCODE)
			n++;
	if (n > 0 && (scan->codes = calloc(n, sizeof(*scan->codes))) == NULL)
		goto nomem;
	for (sym = zb.image_first_symbol(zi); sym != NULL;
	    sym = zb.symbol_next(sym)) {
		struct jcs_scan_code *c;
		const char *data = zb.symbol_get_data(sym);
		size_t len = zb.symbol_get_data_length(sym);

		if (zb.symbol_get_type(sym) != ZBAR_QRCODE)
			continue;
		if (scan->count == n)
			break; /* no more than counted above */
		c = &scan->codes[scan->count];
		if ((c->text = malloc(len + 1)) == NULL)
			goto nomem;
		if (len > 0)
			memcpy(c->text, data, len);
		c->text[len] = '\0';
		c->len = len;
		scan->count++;
	}
	zb.image_destroy(zi);
	zb.image_scanner_destroy(zs);
	return scan;
nomem:
	jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
err:
	if (zi != NULL)
		zb.image_destroy(zi);
	if (zs != NULL)
		zb.image_scanner_destroy(zs);
	jcs_scan_free(scan);
	return NULL;
}

/* ---- the public functions ---------------------------------------------- */

/* Scans image bytes. Messages call the bytes name (the file, or "image
 * data"); the no-code message says they are in where. */
static jcs_scan *
scan_buf(jcs_ctx *ctx, const uint8_t *buf, size_t len, const char *name,
    const char *where)
{
	struct grey img = { NULL, 0, 0 };
	struct png_src src;
	struct jpeg_state st;
	jcs_scan *scan = NULL;
	int rc;

	if (buf == NULL && len > 0) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no image bytes");
		return NULL;
	}
	if (len > JCS_IMAGE_MAX_FILE) {
		jcs_fail(ctx, JCS_ERR_TOO_LARGE, "%s is %zu bytes; at most %d "
		    "bytes are accepted", name, len, JCS_IMAGE_MAX_FILE);
		return NULL;
	}
	if (len == 0) {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "%s is empty: not a PNG or "
		    "JPEG image", name);
		return NULL;
	}
	if (len >= sizeof(png_magic) &&
	    memcmp(buf, png_magic, sizeof(png_magic)) == 0) {
		memset(&src, 0, sizeof(src));
		src.buf = buf;
		src.len = len;
		rc = png_read_grey(ctx, name, &src, &img);
	} else if (len >= sizeof(jpeg_magic) &&
	    memcmp(buf, jpeg_magic, sizeof(jpeg_magic)) == 0) {
		memset(&st, 0, sizeof(st));
		rc = jpeg_read_grey(ctx, name, buf, len, &st, &img);
	} else {
		jcs_fail(ctx, JCS_ERR_MALFORMED, "%s is not a PNG or JPEG image",
		    name);
		return NULL;
	}
	if (rc == -1)
		return NULL;
	scan = zbar_collect(ctx, &img);
	free(img.pix);
	if (scan == NULL)
		return NULL;
	if (scan->count == 0)
		jcs_fail(ctx, JCS_ERR_NO_CODE, "no QR code found in %s", where);
	else
		jcs_ok(ctx);
	return scan;
}

jcs_scan *
jcs_scan_mem(jcs_ctx *ctx, const uint8_t *buf, size_t len)
{
	return scan_buf(ctx, buf, len, "image data", "the image");
}

jcs_scan *
jcs_scan_file(jcs_ctx *ctx, const char *path)
{
	const char *name;
	uint8_t *buf = NULL;
	size_t len;
	jcs_scan *scan;

	if (path == NULL) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "no image file given");
		return NULL;
	}
	name = strcmp(path, "-") == 0 ? "standard input" : path;
	if (jcs_read_file(ctx, path, JCS_IMAGE_MAX_FILE, &buf, &len) == -1)
		return NULL;
	scan = scan_buf(ctx, buf, len, name, name);
	free(buf);
	return scan;
}

size_t
jcs_scan_count(const jcs_scan *scan)
{
	return scan != NULL ? scan->count : 0;
}

const char *
jcs_scan_text(const jcs_scan *scan, size_t i, size_t *len)
{
	if (scan == NULL || i >= scan->count) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = scan->codes[i].len;
	return scan->codes[i].text;
}
