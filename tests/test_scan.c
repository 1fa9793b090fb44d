/* test_scan.c - QR codes read back from PNG and JPEG images (libzbar):
 * payloads of the reference label in every PNG colour type, interlaced and
 * as JPEG; several codes in one image; no code; codes that are not jcstar
 * payloads; damaged, over-large and unreadable files; random round trips.
 * The images are made here, with jcs_qr_encode and libpng / libjpeg. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "testutil.h"

#define BASE_URL "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/"

static uint8_t *ref;
static size_t ref_len;
static char *pay[2]; /* the reference label: url form, bare form */
static const char *form_name[2] = { "url", "bare" };

static int
setup(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	ref = tu_read(tu_src("tests/vectors/ref-p256.der"), &ref_len);
	pay[0] = jcs_payload_encode(ctx, ref, ref_len, JCS_FORM_URL, BASE_URL);
	pay[1] = jcs_payload_encode(ctx, ref, ref_len, JCS_FORM_BARE, NULL);
	jcs_ctx_free(ctx);
	return pay[0] == NULL || pay[1] == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	free(ref);
	jcs_free(pay[0]);
	jcs_free(pay[1]);
	return 0;
}

/* ---- grey canvases with QR codes on them ----------------------------- */

struct canvas {
	uint8_t *pix; /* 0 black .. 255 white */
	uint32_t w, h;
};

static struct canvas
canvas_new(uint32_t w, uint32_t h)
{
	struct canvas c = { malloc((size_t)w * h), w, h };

	assert_non_null(c.pix);
	memset(c.pix, 0xff, (size_t)w * h);
	return c;
}

/* Side in pixels of text's code at px pixels a module with a quiet zone
 * of quiet modules on each side. */
static uint32_t
qr_side(const jcs_qr *qr, int px, int quiet)
{
	return (uint32_t)((jcs_qr_width(qr) + 2 * quiet) * px);
}

static jcs_qr *
qr_of(const char *text)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_qr *qr = jcs_qr_encode(ctx, text, JCS_QR_EC_M);

	if (qr == NULL)
		fail_msg("cannot encode '%s': %s", text, jcs_ctx_message(ctx));
	jcs_ctx_free(ctx);
	return qr;
}

/* Draws qr's dark modules with its quiet zone's corner at (x0, y0). */
static void
draw_qr(struct canvas *c, const jcs_qr *qr, uint32_t x0, uint32_t y0,
    int px, int quiet)
{
	int w = jcs_qr_width(qr);

	assert_true(x0 + qr_side(qr, px, quiet) <= c->w);
	assert_true(y0 + qr_side(qr, px, quiet) <= c->h);
	for (int my = 0; my < w; my++)
		for (int mx = 0; mx < w; mx++) {
			uint32_t x = x0 + (uint32_t)((mx + quiet) * px);
			uint32_t y = y0 + (uint32_t)((my + quiet) * px);

			if (!jcs_qr_module(qr, mx, my))
				continue;
			for (int d = 0; d < px; d++)
				memset(c->pix + (size_t)(y + (uint32_t)d) *
				    c->w + x, 0, (size_t)px);
		}
}

/* One code of text alone on a canvas. */
static struct canvas
qr_canvas(const char *text, int px, int quiet)
{
	jcs_qr *qr = qr_of(text);
	uint32_t side = qr_side(qr, px, quiet);
	struct canvas c = canvas_new(side, side);

	draw_qr(&c, qr, 0, 0, px, quiet);
	jcs_qr_free(qr);
	return c;
}

/* ---- PNG writing in every colour type -------------------------------- */

/* How a canvas is written. Light pixels become transparent where the
 * format can say so (and black underneath, so that a reader that does not
 * composite on white sees no quiet zone and no code). */
static const struct variant {
	const char *name;
	int ctype, depth, interlace;
	int trns; /* a tRNS chunk */
} variants[] = {
	{ "grey 8", PNG_COLOR_TYPE_GRAY, 8, 0, 0 },
	{ "grey 1", PNG_COLOR_TYPE_GRAY, 1, 0, 0 },
	{ "grey 2", PNG_COLOR_TYPE_GRAY, 2, 0, 0 },
	{ "grey 4", PNG_COLOR_TYPE_GRAY, 4, 0, 0 },
	{ "grey 16", PNG_COLOR_TYPE_GRAY, 16, 0, 0 },
	{ "grey 8 tRNS", PNG_COLOR_TYPE_GRAY, 8, 0, 1 },
	{ "palette 1", PNG_COLOR_TYPE_PALETTE, 1, 0, 0 },
	{ "palette 8 tRNS", PNG_COLOR_TYPE_PALETTE, 8, 0, 1 },
	{ "grey+alpha 8", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0 },
	{ "grey+alpha 16", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, 0 },
	{ "rgb 8", PNG_COLOR_TYPE_RGB, 8, 0, 0 },
	{ "rgb 16", PNG_COLOR_TYPE_RGB, 16, 0, 0 },
	{ "rgb 8 tRNS", PNG_COLOR_TYPE_RGB, 8, 0, 1 },
	{ "rgba 8", PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0 },
	{ "rgba 16", PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, 0 },
	{ "grey 8 interlaced", PNG_COLOR_TYPE_GRAY, 8, 1, 0 },
	{ "palette 1 interlaced", PNG_COLOR_TYPE_PALETTE, 1, 1, 0 },
	{ "rgba 8 interlaced", PNG_COLOR_TYPE_RGB_ALPHA, 8, 1, 0 },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))
#define V_GREY8 (&variants[0])

struct membuf {
	uint8_t *buf;
	size_t len, cap;
};

static void
mem_write(png_structp png, png_bytep data, size_t n)
{
	struct membuf *m = png_get_io_ptr(png);

	if (m->len + n > m->cap) {
		size_t cap = (m->len + n) * 2;
		uint8_t *b = realloc(m->buf, cap);

		if (b == NULL)
			png_error(png, "out of memory");
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, data, n);
	m->len += n;
}

static void
mem_flush(png_structp png)
{
	(void)png;
}

/* Writes rows (already in v's format) as PNG into out. The one function
 * here with libpng's setjmp: locals volatile, structures freed either
 * way. Returns 0 or -1. */
static int
png_to_mem(struct membuf *out, const struct variant *v, uint32_t w,
    uint32_t h, png_bytep *rows)
{
	static const png_color pal1[2] = { { 255, 255, 255 }, { 0, 0, 0 } };
	static const png_color pal8[3] = { { 0, 0, 0 }, { 0, 0, 96 },
		{ 255, 255, 255 } };
	static const png_byte pal8_alpha[1] = { 0 };
	png_structp volatile png = NULL;
	png_infop volatile info = NULL;
	volatile int rc = -1;
	png_structp p;
	png_infop i;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL)
		goto done;
	if (setjmp(png_jmpbuf(png)))
		goto done;
	png_set_write_fn(png, out, mem_write, mem_flush);
	png_set_IHDR(png, info, w, h, v->depth, v->ctype,
	    v->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (v->ctype == PNG_COLOR_TYPE_PALETTE && v->depth == 1)
		png_set_PLTE(png, info, pal1, 2);
	if (v->ctype == PNG_COLOR_TYPE_PALETTE && v->depth == 8) {
		png_set_PLTE(png, info, pal8, 3);
		png_set_tRNS(png, info, pal8_alpha, 1, NULL);
	}
	if (v->trns && v->ctype != PNG_COLOR_TYPE_PALETTE) {
		png_color_16 black = { 0, 0, 0, 0, 0 };

		png_set_tRNS(png, info, NULL, 0, &black);
	}
	png_write_info(png, info);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	rc = 0;
done:
	p = png;
	i = info;
	if (p != NULL)
		png_destroy_write_struct(&p, i != NULL ? &i : NULL);
	return rc;
}

/* Stores one sample of depth bits at sample index k of row. */
static void
put_sample(uint8_t *row, size_t k, int depth, unsigned v)
{
	if (depth == 16) {
		row[2 * k] = (uint8_t)(v >> 8);
		row[2 * k + 1] = (uint8_t)v;
	} else if (depth == 8) {
		row[k] = (uint8_t)v;
	} else {
		size_t bit = k * (size_t)depth;
		int shift = 8 - depth - (int)(bit % 8);

		row[bit / 8] = (uint8_t)(row[bit / 8] | (v << shift));
	}
}

/* Encodes the canvas as a PNG of variant v. Returns the bytes (free()). */
static uint8_t *
png_encode(const struct canvas *c, const struct variant *v, size_t *len)
{
	struct membuf out = { NULL, 0, 0 };
	int ch = v->ctype == PNG_COLOR_TYPE_GRAY ? 1 :
	    v->ctype == PNG_COLOR_TYPE_PALETTE ? 1 :
	    v->ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 :
	    v->ctype == PNG_COLOR_TYPE_RGB ? 3 : 4;
	size_t rowbytes = ((size_t)c->w * (size_t)ch * (size_t)v->depth + 7) /
	    8;
	unsigned max = (1u << v->depth) - 1;
	uint8_t *pix = calloc(c->h, rowbytes);
	png_bytep *rows = calloc(c->h, sizeof(*rows));

	assert_non_null(pix);
	assert_non_null(rows);
	for (uint32_t y = 0; y < c->h; y++) {
		rows[y] = pix + (size_t)y * rowbytes;
		for (uint32_t x = 0; x < c->w; x++) {
			int dark = c->pix[(size_t)y * c->w + x] < 128;
			size_t k = (size_t)x * (size_t)ch;
			/* samples of a light and a dark pixel */
			unsigned s[4];

			switch (v->ctype) {
			case PNG_COLOR_TYPE_GRAY:
				/* with tRNS: black is transparent, so the
				 * dark modules are 1, not 0 */
				s[0] = v->trns ? (dark ? 1 : 0) :
				    (dark ? 0 : max);
				break;
			case PNG_COLOR_TYPE_PALETTE:
				s[0] = v->depth == 1 ? (dark ? 1 : 0) :
				    (dark ? 1 : 0);
				break;
			case PNG_COLOR_TYPE_GRAY_ALPHA:
				s[0] = 0;
				s[1] = dark ? max : 0;
				break;
			case PNG_COLOR_TYPE_RGB:
				if (v->trns) { /* light: transparent black */
					s[0] = 0;
					s[1] = 0;
					s[2] = dark ? 96 : 0;
				} else { /* dark navy on off-white */
					s[0] = dark ? max / 12 : max;
					s[1] = dark ? max / 8 : max;
					s[2] = dark ? max / 3 : max * 15 / 16;
				}
				break;
			default:
				s[0] = s[1] = s[2] = 0;
				s[3] = dark ? max : 0;
				break;
			}
			for (int j = 0; j < ch; j++)
				put_sample(rows[y], k + (size_t)j, v->depth,
				    s[j]);
		}
	}
	if (png_to_mem(&out, v, c->w, c->h, rows) == -1)
		fail_msg("%s: cannot write the PNG", v->name);
	free(rows);
	free(pix);
	*len = out.len;
	return out.buf;
}

/* ---- JPEG writing ------------------------------------------------------ */

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jb;
};

static void
jpeg_on_error(j_common_ptr cinfo)
{
	longjmp(((struct jpeg_fail *)cinfo->err)->jb, 1);
}

/* Encodes the canvas as a JPEG in colour space cs (JCS_GRAYSCALE,
 * JCS_RGB or JCS_CMYK) at quality q. The one function here with libjpeg's
 * setjmp; *out from jpeg_mem_dest is freed by the caller. */
static int
jpeg_write(const struct canvas *c, J_COLOR_SPACE cs, int q,
    struct jpeg_compress_struct *cinfo, struct jpeg_fail *f,
    unsigned char **out, unsigned long *outlen)
{
	int ch = cs == JCS_GRAYSCALE ? 1 : cs == JCS_RGB ? 3 : 4;
	uint8_t *volatile row = malloc((size_t)c->w * (size_t)ch);
	volatile int created = 0, rc = -1;

	if (row == NULL)
		return -1;
	cinfo->err = jpeg_std_error(&f->mgr);
	f->mgr.error_exit = jpeg_on_error;
	if (setjmp(f->jb))
		goto done;
	jpeg_create_compress(cinfo);
	created = 1;
	jpeg_mem_dest(cinfo, out, outlen);
	cinfo->image_width = c->w;
	cinfo->image_height = c->h;
	cinfo->input_components = ch;
	cinfo->in_color_space = cs;
	jpeg_set_defaults(cinfo);
	jpeg_set_quality(cinfo, q, TRUE);
	jpeg_start_compress(cinfo, TRUE);
	while (cinfo->next_scanline < c->h) {
		JSAMPROW r = row;

		for (uint32_t x = 0; x < c->w; x++)
			for (int j = 0; j < ch; j++) {
				uint8_t g = c->pix[(size_t)cinfo->next_scanline *
				    c->w + x];

				/* CMYK: ink, so dark is high */
				row[(size_t)x * (size_t)ch + (size_t)j] =
				    cs == JCS_CMYK ? (uint8_t)(255 - g) : g;
			}
		jpeg_write_scanlines(cinfo, &r, 1);
	}
	jpeg_finish_compress(cinfo);
	rc = 0;
done:
	if (created)
		jpeg_destroy_compress(cinfo);
	free(row);
	return rc;
}

static uint8_t *
jpeg_encode(const struct canvas *c, J_COLOR_SPACE cs, int q, size_t *len)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_fail f;
	unsigned char *out = NULL;
	unsigned long n = 0;

	memset(&cinfo, 0, sizeof(cinfo));
	if (jpeg_write(c, cs, q, &cinfo, &f, &out, &n) == -1)
		fail_msg("cannot write a JPEG");
	*len = n;
	return out;
}

/* ---- scanning helpers --------------------------------------------------- */

/* Asserts that scan holds exactly the texts want[0..n-1], in any order. */
static void
assert_texts(const jcs_scan *scan, const char *what, const char *const *want,
    size_t n)
{
	if (jcs_scan_count(scan) != n)
		fail_msg("%s: %zu codes found, want %zu", what,
		    jcs_scan_count(scan), n);
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (size_t j = 0; j < n && !found; j++) {
			size_t len;
			const char *t = jcs_scan_text(scan, j, &len);

			found = t != NULL && len == strlen(want[i]) &&
			    memcmp(t, want[i], len) == 0;
		}
		if (!found)
			fail_msg("%s: '%s' not found (code 0 is '%s')", what,
			    want[i], jcs_scan_text(scan, 0, NULL));
	}
}

/* Scans image bytes, expecting exactly the one code text. */
static void
expect_one(const uint8_t *img, size_t len, const char *text,
    const char *what)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_scan *scan = jcs_scan_mem(ctx, img, len);

	if (scan == NULL)
		fail_msg("%s: %s", what, jcs_ctx_message(ctx));
	if (jcs_scan_count(scan) == 0)
		fail_msg("%s: no code (%s: %s)", what,
		    jcs_err_name(jcs_ctx_error(ctx)), jcs_ctx_message(ctx));
	assert_texts(scan, what, &text, 1);
	assert_err(ctx, JCS_OK);
	jcs_scan_free(scan);
	jcs_ctx_free(ctx);
}

/* ---- the reference label ------------------------------------------------ */

/* Both forms, in every PNG variant: the exact text comes back and decodes
 * to the reference label's DER. */
static void
test_reference_png_variants(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct canvas c = qr_canvas(pay[f], 4, 4);

		for (size_t v = 0; v < NVARIANTS; v++) {
			char what[128];
			size_t len;
			uint8_t *img = png_encode(&c, &variants[v], &len);

			snprintf(what, sizeof(what), "%s form, %s",
			    form_name[f], variants[v].name);
			expect_one(img, len, pay[f], what);
			free(img);
		}
		free(c.pix);
	}
}

static void
test_reference_decodes_to_der(void **state)
{
	char *dir = tu_tmpdir(), path[4096];

	(void)state;
	for (int f = 0; f < 2; f++) {
		struct canvas c = qr_canvas(pay[f], 4, 4);
		jcs_ctx *ctx = jcs_ctx_new();
		jcs_scan *scan;
		jcs_label *l;
		const uint8_t *der;
		const char *text;
		size_t len, dlen;
		uint8_t *img = png_encode(&c, V_GREY8, &len);

		snprintf(path, sizeof(path), "%s/ref-%s.png", dir,
		    form_name[f]);
		tu_write(path, img, len);
		scan = jcs_scan_file(ctx, path);
		assert_non_null(scan);
		assert_err(ctx, JCS_OK);
		assert_int_equal(jcs_scan_count(scan), 1);
		text = jcs_scan_text(scan, 0, &len);
		assert_non_null(text);
		assert_int_equal(len, strlen(pay[f]));
		assert_string_equal(text, pay[f]);
		l = jcs_label_from_payload(ctx, text, len);
		if (l == NULL)
			fail_msg("%s: %s", path, jcs_ctx_message(ctx));
		der = jcs_label_der(l, &dlen);
		assert_int_equal(dlen, ref_len);
		assert_memory_equal(der, ref, ref_len);
		jcs_label_free(l);
		jcs_scan_free(scan);
		jcs_ctx_free(ctx);
		free(img);
		free(c.pix);
	}
	tu_rmrf(dir);
	free(dir);
}

/* JPEG, grey and colour, at a photo-like quality. */
static void
test_reference_jpeg(void **state)
{
	static const struct {
		const char *name;
		J_COLOR_SPACE cs;
		int q;
	} jp[] = {
		{ "grey q90", JCS_GRAYSCALE, 90 },
		{ "grey q50", JCS_GRAYSCALE, 50 },
		{ "rgb q75", JCS_RGB, 75 },
	};

	(void)state;
	for (int f = 0; f < 2; f++) {
		struct canvas c = qr_canvas(pay[f], 4, 4);

		for (size_t i = 0; i < sizeof(jp) / sizeof(jp[0]); i++) {
			char what[128];
			size_t len;
			uint8_t *img = jpeg_encode(&c, jp[i].cs, jp[i].q, &len);

			snprintf(what, sizeof(what), "%s form, JPEG %s",
			    form_name[f], jp[i].name);
			expect_one(img, len, pay[f], what);
			free(img);
		}
		free(c.pix);
	}
}

/* Module sizes down to 2 pixels, and a code off-centre on a larger page. */
static void
test_module_sizes(void **state)
{
	(void)state;
	for (int px = 2; px <= 8; px++)
		for (int f = 0; f < 2; f++) {
			struct canvas c = qr_canvas(pay[f], px, 4);
			char what[128];
			size_t len;
			uint8_t *img = png_encode(&c, V_GREY8, &len);

			snprintf(what, sizeof(what), "%s form, %d px a module",
			    form_name[f], px);
			expect_one(img, len, pay[f], what);
			free(img);
			free(c.pix);
		}
	{
		jcs_qr *qr = qr_of(pay[0]);
		struct canvas c = canvas_new(1200, 900);
		size_t len;
		uint8_t *img;

		draw_qr(&c, qr, 611, 333, 3, 4);
		img = png_encode(&c, V_GREY8, &len);
		expect_one(img, len, pay[0], "code off-centre on a page");
		free(img);
		free(c.pix);
		jcs_qr_free(qr);
	}
}

/* Two codes in one image: both, each once. */
static void
test_two_codes(void **state)
{
	jcs_qr *a = qr_of(pay[0]), *b = qr_of(pay[1]);
	uint32_t sa = qr_side(a, 4, 4), sb = qr_side(b, 4, 4);
	struct canvas c = canvas_new(sa + sb, sa > sb ? sa : sb);
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_scan *scan;
	size_t len;
	uint8_t *img;

	(void)state;
	draw_qr(&c, a, 0, 0, 4, 4);
	draw_qr(&c, b, sa, 0, 4, 4);
	img = png_encode(&c, V_GREY8, &len);
	scan = jcs_scan_mem(ctx, img, len);
	assert_non_null(scan);
	assert_err(ctx, JCS_OK);
	assert_texts(scan, "two codes", (const char *const *)pay, 2);
	jcs_scan_free(scan);
	free(img);
	free(c.pix);
	jcs_qr_free(a);
	jcs_qr_free(b);
	jcs_ctx_free(ctx);
}

/* A blank image: a result with no code, and JCS_ERR_NO_CODE naming the
 * file. */
static void
test_no_code(void **state)
{
	struct canvas c = canvas_new(300, 200);
	jcs_ctx *ctx = jcs_ctx_new();
	char *dir = tu_tmpdir(), path[4096];
	jcs_scan *scan;
	size_t len;
	uint8_t *img;

	(void)state;
	/* a finder-like square is not a code either */
	for (uint32_t y = 50; y < 120; y++)
		memset(c.pix + (size_t)y * c.w + 50, 0, 70);
	img = png_encode(&c, V_GREY8, &len);
	scan = jcs_scan_mem(ctx, img, len);
	assert_non_null(scan);
	assert_int_equal(jcs_scan_count(scan), 0);
	assert_null(jcs_scan_text(scan, 0, NULL));
	assert_err(ctx, JCS_ERR_NO_CODE);
	assert_msg(ctx, "no QR code found in the image");
	jcs_scan_free(scan);

	snprintf(path, sizeof(path), "%s/blank.png", dir);
	tu_write(path, img, len);
	scan = jcs_scan_file(ctx, path);
	assert_non_null(scan);
	assert_int_equal(jcs_scan_count(scan), 0);
	assert_err(ctx, JCS_ERR_NO_CODE);
	assert_msg(ctx, "no QR code found in");
	assert_msg(ctx, path);
	jcs_scan_free(scan);

	/* the JPEG path too */
	free(img);
	img = jpeg_encode(&c, JCS_GRAYSCALE, 90, &len);
	scan = jcs_scan_mem(ctx, img, len);
	assert_non_null(scan);
	assert_int_equal(jcs_scan_count(scan), 0);
	assert_err(ctx, JCS_ERR_NO_CODE);
	jcs_scan_free(scan);

	free(img);
	free(c.pix);
	tu_rmrf(dir);
	free(dir);
	jcs_ctx_free(ctx);
}

/* A code with other text is read as it is: telling payloads from other
 * codes is the caller's business. A success clears an earlier error. */
static void
test_other_text(void **state)
{
	struct canvas c = qr_canvas("HELLO WORLD", 4, 4);
	jcs_ctx *ctx = jcs_ctx_new();
	uint8_t *der = NULL;
	size_t len, dlen;
	uint8_t *img = png_encode(&c, V_GREY8, &len);
	jcs_scan *scan;
	const char *text;

	(void)state;
	jcs_fail(ctx, JCS_ERR_IO, "stale");
	scan = jcs_scan_mem(ctx, img, len);
	assert_non_null(scan);
	assert_err(ctx, JCS_OK);
	assert_string_equal(jcs_ctx_message(ctx), "");
	assert_int_equal(jcs_scan_count(scan), 1);
	text = jcs_scan_text(scan, 0, &len);
	assert_int_equal(len, 11);
	assert_string_equal(text, "HELLO WORLD");
	assert_int_equal(jcs_payload_decode(ctx, text, len, &der, &dlen, NULL),
	    -1);
	assert_err(ctx, JCS_ERR_NOT_PAYLOAD);
	assert_null(jcs_scan_text(scan, 1, &len));
	assert_int_equal(len, 0);
	jcs_scan_free(scan);
	free(img);
	free(c.pix);
	jcs_ctx_free(ctx);
}

static void
test_null_safe(void **state)
{
	size_t len = 7;

	(void)state;
	jcs_scan_free(NULL);
	assert_int_equal(jcs_scan_count(NULL), 0);
	assert_null(jcs_scan_text(NULL, 0, &len));
	assert_int_equal(len, 0);
	assert_null(jcs_scan_file(NULL, "/nonexistent"));
}

/* ---- bad inputs ------------------------------------------------------- */

static uint32_t
crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Appends a chunk with a correct CRC at buf + *o. */
static void
chunk(uint8_t *buf, size_t *o, const char *type, const uint8_t *data,
    uint32_t n)
{
	put32(buf + *o, n);
	memcpy(buf + *o + 4, type, 4);
	if (n > 0)
		memcpy(buf + *o + 8, data, n);
	put32(buf + *o + 8 + n, crc32_of(buf + *o + 4, 4 + (size_t)n));
	*o += 12 + (size_t)n;
}

/* A well-formed PNG whose header claims w x h 8-bit grey pixels, with one
 * small IDAT (a zlib stream of one zero byte: far too little data). */
static size_t
png_header_only(uint8_t *buf, uint32_t w, uint32_t h)
{
	static const uint8_t idat[] = { 0x78, 0x9c, 0x63, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x01 };
	uint8_t ihdr[13];
	size_t o = 8;

	memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
	put32(ihdr, w);
	put32(ihdr + 4, h);
	ihdr[8] = 8;  /* bit depth */
	ihdr[9] = 0;  /* grey */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* filter */
	ihdr[12] = 0; /* not interlaced */
	chunk(buf, &o, "IHDR", ihdr, 13);
	chunk(buf, &o, "IDAT", idat, sizeof(idat));
	chunk(buf, &o, "IEND", NULL, 0);
	return o;
}

/* Offset of the first chunk of type in a PNG. */
static size_t
find_chunk(const uint8_t *png, size_t len, const char *type)
{
	size_t o = 8;

	while (o + 8 <= len) {
		uint32_t n = (uint32_t)png[o] << 24 | (uint32_t)png[o + 1] << 16 |
		    (uint32_t)png[o + 2] << 8 | png[o + 3];

		if (memcmp(png + o + 4, type, 4) == 0)
			return o;
		o += 12 + (size_t)n;
	}
	fail_msg("no %s chunk", type);
	return 0;
}

/* The bytes of a good reference PNG, for the cases to damage. */
static uint8_t *
good_png(size_t *len)
{
	struct canvas c = qr_canvas(pay[0], 4, 4);
	uint8_t *img = png_encode(&c, V_GREY8, len);

	free(c.pix);
	return img;
}

/* A good grey JPEG with its SOF0 frame size set to w x h. */
static uint8_t *
jpeg_sized(uint32_t w, uint32_t h, size_t *len)
{
	struct canvas c = qr_canvas("HELLO", 4, 4);
	uint8_t *img = jpeg_encode(&c, JCS_GRAYSCALE, 90, len);
	size_t o;

	free(c.pix);
	for (o = 2; o + 9 < *len; o++)
		if (img[o] == 0xff && img[o + 1] == 0xc0)
			break;
	assert_true(o + 9 < *len);
	img[o + 5] = (uint8_t)(h >> 8);
	img[o + 6] = (uint8_t)h;
	img[o + 7] = (uint8_t)(w >> 8);
	img[o + 8] = (uint8_t)w;
	return img;
}

/* How each bad input is made, in dir: returns the path to scan. */
typedef void (*make_fn)(const char *path);

static void
mk_empty(const char *path)
{
	tu_write(path, "", 0);
}

static void
mk_random(const char *path)
{
	uint8_t buf[4096];
	uint64_t s = 0x9e3779b97f4a7c15u;

	for (size_t i = 0; i < sizeof(buf); i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		buf[i] = (uint8_t)s;
	}
	buf[0] = 0x42; /* not a PNG or JPEG by chance */
	tu_write(path, buf, sizeof(buf));
}

static void
mk_text(const char *path)
{
	const char *t = "JCS1:NOT AN IMAGE\n";

	tu_write(path, t, strlen(t));
}

static void
mk_gif(const char *path)
{
	tu_write(path, "GIF89a\1\0\1\0\0\0\0;", 14);
}

static void
mk_signature_only(const char *path)
{
	tu_write(path, "\x89PNG\r\n\x1a\n", 8);
}

static void
mk_truncated_idat(const char *path)
{
	size_t len, o;
	uint8_t *img = good_png(&len);
	uint32_t n;

	o = find_chunk(img, len, "IDAT");
	n = (uint32_t)img[o] << 24 | (uint32_t)img[o + 1] << 16 |
	    (uint32_t)img[o + 2] << 8 | img[o + 3];
	tu_write(path, img, o + 8 + n / 2); /* cut in the middle of IDAT */
	free(img);
}

static void
mk_bad_crc(const char *path)
{
	size_t len, o;
	uint8_t *img = good_png(&len);
	uint32_t n;

	o = find_chunk(img, len, "IDAT");
	n = (uint32_t)img[o] << 24 | (uint32_t)img[o + 1] << 16 |
	    (uint32_t)img[o + 2] << 8 | img[o + 3];
	img[o + 8 + n] ^= 0x01; /* the CRC: the data itself is intact */
	tu_write(path, img, len);
	free(img);
}

static void
mk_bad_idat_data(const char *path)
{
	size_t len, o;
	uint8_t *img = good_png(&len);

	o = find_chunk(img, len, "IDAT");
	img[o + 8 + 5] ^= 0x10; /* one bit of the deflate stream */
	tu_write(path, img, len);
	free(img);
}

static void
mk_bad_ihdr_crc(const char *path)
{
	size_t len;
	uint8_t *img = good_png(&len);

	img[8 + 8 + 13] ^= 0x01; /* IHDR's CRC */
	tu_write(path, img, len);
	free(img);
}

static void
mk_huge_header(const char *path)
{
	uint8_t buf[128];

	tu_write(path, buf, png_header_only(buf, 100000, 100000));
}

static void
mk_largest(const char *path)
{
	uint8_t buf[128];

	/* the largest a PNG can claim: 4.6e18 bytes of grey. Had anything
	 * been allocated first, malloc would have failed (JCS_ERR_NOMEM) or
	 * ASan aborted, instead of JCS_ERR_TOO_LARGE. */
	tu_write(path, buf, png_header_only(buf, 0x7fffffff, 0x7fffffff));
}

static void
mk_over_cap(const char *path)
{
	uint8_t buf[128];

	/* 100,010,000 pixels: one row over the cap */
	tu_write(path, buf, png_header_only(buf, 10000, 10001));
}

static void
mk_at_cap(const char *path)
{
	uint8_t buf[128];

	/* exactly the cap: accepted, then the data runs out */
	tu_write(path, buf, png_header_only(buf, 10000, 10000));
}

static void
mk_wide(const char *path)
{
	uint8_t buf[128];

	/* over libpng's own 1,000,000-pixel width limit: still ours */
	tu_write(path, buf, png_header_only(buf, 2000000, 60));
}

static void
mk_zero_width(const char *path)
{
	uint8_t buf[128];

	tu_write(path, buf, png_header_only(buf, 0, 10));
}

static void
mk_jpeg_soi_only(const char *path)
{
	tu_write(path, "\xff\xd8\xff\xe0\0\x10JFIF\0", 11);
}

static void
mk_jpeg_huge(const char *path)
{
	size_t len;
	uint8_t *img = jpeg_sized(60000, 60000, &len);

	tu_write(path, img, len);
	free(img);
}

static void
mk_jpeg_cmyk(const char *path)
{
	struct canvas c = qr_canvas("HELLO", 4, 4);
	size_t len;
	uint8_t *img = jpeg_encode(&c, JCS_CMYK, 90, &len);

	tu_write(path, img, len);
	free(img);
	free(c.pix);
}

static void
mk_sparse(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\x89PNG\r\n\x1a\n", 8), 8);
	assert_int_equal(ftruncate(fd, (off_t)JCS_IMAGE_MAX_FILE + 1), 0);
	assert_int_equal(close(fd), 0);
}

static void
mk_dir(const char *path)
{
	assert_int_equal(mkdir(path, 0700), 0);
}

static void
mk_nothing(const char *path)
{
	(void)path;
}

static const struct bad_case {
	const char *name;
	make_fn make;
	int file_only; /* not also scanned from memory */
	jcs_err want;
	const char *msg1, *msg2;
} bad_cases[] = {
	{ "empty file", mk_empty, 0, JCS_ERR_MALFORMED,
	  "is empty: not a PNG or JPEG image", NULL },
	{ "random bytes", mk_random, 0, JCS_ERR_MALFORMED,
	  "is not a PNG or JPEG image", NULL },
	{ "a text file", mk_text, 0, JCS_ERR_MALFORMED,
	  "is not a PNG or JPEG image", NULL },
	{ "a GIF", mk_gif, 0, JCS_ERR_MALFORMED,
	  "is not a PNG or JPEG image", NULL },
	{ "PNG signature only", mk_signature_only, 0, JCS_ERR_MALFORMED,
	  "damaged PNG", "truncated" },
	{ "PNG cut in IDAT", mk_truncated_idat, 0, JCS_ERR_MALFORMED,
	  "damaged PNG", "truncated" },
	{ "PNG with a bad IDAT CRC", mk_bad_crc, 0, JCS_ERR_MALFORMED,
	  "damaged PNG", "IDAT: CRC error" },
	{ "PNG with a flipped bit in IDAT", mk_bad_idat_data, 0,
	  JCS_ERR_MALFORMED, "damaged PNG: IDAT: invalid", NULL },
	{ "PNG with a bad IHDR CRC", mk_bad_ihdr_crc, 0, JCS_ERR_MALFORMED,
	  "damaged PNG", "IHDR: CRC error" },
	{ "PNG of 100000x100000", mk_huge_header, 0, JCS_ERR_TOO_LARGE,
	  "100000x100000 pixels is too large",
	  "at most 100000000 pixels" },
	{ "PNG of 2^31-1 x 2^31-1", mk_largest, 0, JCS_ERR_TOO_LARGE,
	  "2147483647x2147483647 pixels is too large", NULL },
	{ "PNG one row over the pixel cap", mk_over_cap, 0, JCS_ERR_TOO_LARGE,
	  "10000x10001 pixels", NULL },
	{ "PNG at the pixel cap, no data", mk_at_cap, 0, JCS_ERR_MALFORMED,
	  "damaged PNG", NULL },
	{ "PNG 2000000 wide", mk_wide, 0, JCS_ERR_TOO_LARGE,
	  "2000000x60 pixels is too large", NULL },
	{ "PNG of width 0", mk_zero_width, 0, JCS_ERR_MALFORMED,
	  "damaged PNG", "width is zero" },
	{ "JPEG header only", mk_jpeg_soi_only, 0, JCS_ERR_MALFORMED,
	  "damaged or unsupported JPEG", NULL },
	{ "JPEG of 60000x60000", mk_jpeg_huge, 0, JCS_ERR_TOO_LARGE,
	  "60000x60000 pixels is too large", NULL },
	{ "CMYK JPEG", mk_jpeg_cmyk, 0, JCS_ERR_MALFORMED,
	  "damaged or unsupported JPEG", "color conversion" },
	{ "file over JCS_IMAGE_MAX_FILE", mk_sparse, 1, JCS_ERR_TOO_LARGE,
	  "67108865 bytes", "at most 67108864 bytes" },
	{ "a directory", mk_dir, 1, JCS_ERR_IO, "is a directory", NULL },
	{ "a missing file", mk_nothing, 1, JCS_ERR_IO, "cannot open",
	  "No such file or directory" },
};

static void
check_bad(const struct bad_case *c, jcs_ctx *ctx, const jcs_scan *scan,
    const char *how)
{
	if (scan != NULL)
		fail_msg("%s (%s): accepted", c->name, how);
	if (jcs_ctx_error(ctx) != c->want ||
	    strstr(jcs_ctx_message(ctx), c->msg1) == NULL ||
	    (c->msg2 != NULL && strstr(jcs_ctx_message(ctx), c->msg2) == NULL))
		fail_msg("%s (%s): want %s '%s' '%s', got %s '%s'", c->name,
		    how, jcs_err_name(c->want), c->msg1,
		    c->msg2 != NULL ? c->msg2 : "",
		    jcs_err_name(jcs_ctx_error(ctx)), jcs_ctx_message(ctx));
}

static void
test_bad_inputs(void **state)
{
	char *dir = tu_tmpdir(), path[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		jcs_ctx *ctx = jcs_ctx_new();
		jcs_scan *scan;

		snprintf(path, sizeof(path), "%s/case%zu", dir, i);
		c->make(path);
		scan = jcs_scan_file(ctx, path);
		check_bad(c, ctx, scan, "file");
		/* a message about a file names it */
		if (strstr(jcs_ctx_message(ctx), path) == NULL)
			fail_msg("%s: message '%s' does not name %s", c->name,
			    jcs_ctx_message(ctx), path);
		if (!c->file_only) {
			size_t len;
			uint8_t *buf = tu_read(path, &len);

			scan = jcs_scan_mem(ctx, buf, len);
			check_bad(c, ctx, scan, "memory");
			free(buf);
		}
		jcs_ctx_free(ctx);
	}
	tu_rmrf(dir);
	free(dir);
}

/* Image bytes over the file cap are refused from memory too, unread. */
static void
test_mem_over_cap(void **state)
{
	size_t n = (size_t)JCS_IMAGE_MAX_FILE + 1;
	uint8_t *big = calloc(1, n);
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	assert_non_null(big);
	memcpy(big, "\x89PNG\r\n\x1a\n", 8);
	assert_null(jcs_scan_mem(ctx, big, n));
	assert_err(ctx, JCS_ERR_TOO_LARGE);
	assert_msg(ctx, "at most 67108864 bytes");
	assert_null(jcs_scan_mem(ctx, NULL, 5));
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	free(big);
	jcs_ctx_free(ctx);
}

/* ---- random round trips -------------------------------------------------- */

static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* 50 random DER-like labels of 150..400 bytes, both forms: QR -> PNG (the
 * variants in turn) -> scan -> the identical text, and the same bytes. */
static void
test_random_round_trips(void **state)
{
	const uint64_t seed = 0x6a63737461723031u;
	jcs_ctx *ctx = jcs_ctx_new();

	(void)state;
	rng_state = seed;
	for (int i = 0; i < 50; i++) {
		uint8_t der[400];
		size_t n = 150 + rng() % 251;

		der[0] = 0x30;
		der[1] = 0x82;
		der[2] = (uint8_t)((n - 4) >> 8);
		der[3] = (uint8_t)(n - 4);
		for (size_t k = 4; k < n; k++)
			der[k] = (uint8_t)rng();
		for (int f = 0; f < 2; f++) {
			const struct variant *v =
			    &variants[(size_t)(2 * i + f) % NVARIANTS];
			char *text = jcs_payload_encode(ctx, der, n,
			    f == 0 ? JCS_FORM_URL : JCS_FORM_BARE, BASE_URL);
			struct canvas c;
			uint8_t *img, *back = NULL;
			size_t len, blen;
			char what[160];

			assert_non_null(text);
			c = qr_canvas(text, 4, 4);
			img = png_encode(&c, v, &len);
			snprintf(what, sizeof(what), "seed %#llx, label %d "
			    "(%zu bytes), %s form, %s",
			    (unsigned long long)seed, i, n, form_name[f],
			    v->name);
			expect_one(img, len, text, what);
			assert_int_equal(jcs_payload_decode(ctx, text,
			    strlen(text), &back, &blen, NULL), 0);
			assert_int_equal(blen, n);
			assert_memory_equal(back, der, n);
			jcs_free(back);
			free(img);
			free(c.pix);
			jcs_free(text);
		}
	}
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_png_variants),
		cmocka_unit_test(test_reference_decodes_to_der),
		cmocka_unit_test(test_reference_jpeg),
		cmocka_unit_test(test_module_sizes),
		cmocka_unit_test(test_two_codes),
		cmocka_unit_test(test_no_code),
		cmocka_unit_test(test_other_text),
		cmocka_unit_test(test_null_safe),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_mem_over_cap),
		cmocka_unit_test(test_random_round_trips),
	};

	return cmocka_run_group_tests_name("scan", tests, setup, teardown);
}
