/* test_pngwrite.c - the PNG writer for flat artwork (pngwrite.c): images of
 * every depth, greyscale and palette, flat, noisy, striped and with runs
 * across the match limits, read back with libpng sample by sample; the
 * chunks' CRCs and the stream's Adler-32 recomputed here, bit by bit; a
 * damaged file refused; and the images it must refuse. */
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "testutil.h"

enum pattern { FLAT, NOISE, STRIPES, RUNS, SPAN, CHECKER };

static const struct wcase {
	const char *name;
	int w, h, depth, npal;
	enum pattern pat;
} cases[] = {
	{ "1x1 grey 1-bit", 1, 1, 1, 0, FLAT },
	{ "3x2 grey 2-bit", 3, 2, 2, 0, NOISE },
	{ "7x5 grey 4-bit", 7, 5, 4, 0, NOISE },
	{ "9x9 grey 1-bit checker", 9, 9, 1, 0, CHECKER },
	{ "827x449 grey 4-bit, rows repeat", 827, 449, 4, 0, STRIPES },
	{ "827x40 grey 4-bit, rows differ in a span", 827, 40, 4, 0, SPAN },
	{ "1000x1000 grey 1-bit flat", 1000, 1000, 1, 0, FLAT },
	{ "1200x12 grey 8-bit, runs of 1 to 300", 1200, 12, 8, 0, RUNS },
	{ "517x6 grey 8-bit, runs", 517, 6, 8, 0, RUNS },
	{ "261x3 grey 8-bit noise", 261, 3, 8, 0, NOISE },
	{ "64x64 palette 2 colours 1-bit", 64, 64, 1, 2, CHECKER },
	{ "33x17 palette 4 colours 2-bit", 33, 17, 2, 4, NOISE },
	{ "101x50 palette 13 colours 4-bit", 101, 50, 4, 13, STRIPES },
	{ "300x30 palette 200 colours 8-bit", 300, 30, 8, 200, NOISE },
	{ "600x20 palette 256 colours 8-bit", 600, 20, 8, 256, SPAN },
	{ "16384x2 grey 8-bit (rows of 16385 bytes)", 16384, 2, 8, 0, RUNS },
	/* rows of 258 + 1 and 258 + 2 bytes: a copy is never split into a
	 * piece below the shortest match */
	{ "258x3 grey 8-bit flat", 258, 3, 8, 0, FLAT },
	{ "259x3 grey 8-bit flat", 259, 3, 8, 0, FLAT },
	{ "2072x3 grey 1-bit flat", 2072, 3, 1, 0, FLAT },
};

static uint32_t lcg = 12345;

static unsigned
rnd(unsigned n)
{
	lcg = lcg * 1103515245u + 12345u;
	return (lcg >> 16) % n;
}

/* The pixels of a case: values below the number of samples. */
static uint8_t *
make_pixels(const struct wcase *c)
{
	unsigned vals = c->npal > 0 ? (unsigned)c->npal : 1u << c->depth;
	uint8_t *px = malloc((size_t)c->w * (size_t)c->h);

	assert_non_null(px);
	for (int y = 0; y < c->h; y++)
		for (int x = 0, left = 0, v = 0; x < c->w; x++) {
			uint8_t *p = px + (size_t)y * (size_t)c->w + (size_t)x;

			switch (c->pat) {
			case FLAT:
				*p = (uint8_t)(vals - 1);
				break;
			case NOISE:
				*p = (uint8_t)rnd(vals);
				break;
			case STRIPES:
				/* bands 4 rows high, as QR modules */
				*p = (uint8_t)((x / 4 + y / 4) % 3 == 0 ?
				    vals - 1 : (x * 7 / 5 + y / 4) % vals);
				break;
			case RUNS:
				/* runs of every length, 1 to 300 */
				if (left == 0) {
					left = 1 + (x + y * 13) % 300;
					v = (v + 1 + (int)rnd(vals - 1)) %
					    (int)vals;
				}
				*p = (uint8_t)v;
				left--;
				break;
			case SPAN:
				/* the same row, but for a span that moves */
				*p = (uint8_t)(x >= 100 + y * 7 && x < 140 + y * 9 ?
				    rnd(vals) : (x / 3) % vals);
				break;
			case CHECKER:
				*p = (uint8_t)((x + y) % 2 != 0 ? vals - 1 : 0);
				break;
			}
		}
	return px;
}

/* CRC-32 and Adler-32 as the specifications write them, bit by bit and
 * byte by byte: an independent check of the writer's. */
static uint32_t
ref_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunks: each CRC is right, IHDR comes first and IEND last;
 * returns the offset of the (one) IDAT chunk. */
static size_t
check_chunks(const uint8_t *buf, size_t len)
{
	size_t off = 8, idat = 0;
	int n = 0;

	assert_true(len > 8);
	assert_memory_equal(buf, "\x89PNG\r\n\x1a\n", 8);
	for (;;) {
		uint32_t clen;

		assert_true(off + 12 <= len);
		clen = be32(buf + off);
		assert_true(off + 12 + clen <= len);
		if (ref_crc(buf + off + 4, clen + 4) !=
		    be32(buf + off + 8 + clen))
			fail_msg("chunk %.4s: bad CRC", buf + off + 4);
		if (n++ == 0)
			assert_memory_equal(buf + off + 4, "IHDR", 4);
		if (memcmp(buf + off + 4, "IDAT", 4) == 0) {
			assert_int_equal(idat, 0);
			idat = off;
		}
		if (memcmp(buf + off + 4, "IEND", 4) == 0) {
			assert_int_equal(off + 12, len);
			break;
		}
		off += 12 + clen;
	}
	assert_true(idat > 0);
	return idat;
}

struct rd {
	const uint8_t *p;
	size_t len, off;
};

static void
read_cb(png_structp png, png_bytep out, size_t n)
{
	struct rd *r = png_get_io_ptr(png);

	if (n > r->len - r->off)
		png_error(png, "read past the end");
	memcpy(out, r->p + r->off, n);
	r->off += n;
}

static void
err_cb(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void
warn_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* What libpng reads: the header's fields, the palette, pHYs, and the
 * packed rows (rowbytes each, without filter bytes). */
struct decoded {
	png_uint_32 w, h, ppm_x, ppm_y;
	int depth, color_type, interlace, unit, has_phys, npal;
	png_color pal[256];
	size_t rowbytes;
	uint8_t *rows;
};

/* Returns 0, or -1 when libpng refuses the file. */
static int
decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	png_structp volatile png = NULL;
	png_infop volatile info = NULL;
	png_bytep *volatile rows = NULL;
	volatile int rc = -1;
	struct rd r = { buf, len, 0 };
	png_structp p;
	png_infop i;

	memset(d, 0, sizeof(*d));
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, err_cb,
	    warn_cb);
	info = png_create_info_struct(png);
	if (setjmp(png_jmpbuf(png)) != 0)
		goto done;
	png_set_read_fn(png, &r, read_cb);
	png_read_info(png, info);
	d->w = png_get_image_width(png, info);
	d->h = png_get_image_height(png, info);
	d->depth = png_get_bit_depth(png, info);
	d->color_type = png_get_color_type(png, info);
	d->interlace = png_get_interlace_type(png, info);
	d->has_phys = png_get_pHYs(png, info, &d->ppm_x, &d->ppm_y,
	    &d->unit) != 0;
	if (d->color_type == PNG_COLOR_TYPE_PALETTE) {
		png_colorp pal;

		assert_true(png_get_PLTE(png, info, &pal, &d->npal) != 0);
		memcpy(d->pal, pal, (size_t)d->npal * sizeof(*pal));
	}
	d->rowbytes = png_get_rowbytes(png, info);
	d->rows = malloc(d->rowbytes * d->h);
	rows = malloc(d->h * sizeof(*rows));
	assert_non_null(d->rows);
	assert_non_null(rows);
	for (png_uint_32 y = 0; y < d->h; y++)
		rows[y] = d->rows + (size_t)y * d->rowbytes;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	rc = 0;
done:
	p = png;
	i = info;
	png_destroy_read_struct(&p, &i, NULL);
	free(rows);
	if (rc != 0) {
		free(d->rows);
		d->rows = NULL;
	}
	return rc;
}

/* Sample x of a packed row. */
static unsigned
sample_at(const uint8_t *row, int x, int depth)
{
	int per = 8 / depth, shift = 8 - depth * (x % per + 1);

	return (row[x / per] >> shift) & ((1u << depth) - 1);
}

static void
test_round_trip(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct wcase *c = &cases[k];
		uint8_t *px = make_pixels(c), *buf;
		jcs_png_image img;
		struct decoded d;
		size_t len, idat, n;
		uint32_t a = 1, b = 0;
		unsigned vals = c->npal > 0 ? (unsigned)c->npal :
		    1u << c->depth;

		memset(&img, 0, sizeof(img));
		img.w = c->w;
		img.h = c->h;
		img.depth = c->depth;
		img.px = px;
		img.npal = c->npal;
		img.ppm = 11811;
		/* samples in another order than the pixels' values */
		for (unsigned i = 0; i < vals; i++)
			img.sample[i] = (uint8_t)(vals - 1 - i);
		for (int i = 0; i < c->npal; i++) {
			img.pal[i][0] = (uint8_t)(i * 37);
			img.pal[i][1] = (uint8_t)(i * 91);
			img.pal[i][2] = (uint8_t)(255 - i);
		}
		if (jcs_png_write_flat(&img, NULL, &buf, &len) == -1)
			fail_msg("%s: the writer failed", c->name);
		idat = check_chunks(buf, len);
		if (decode(buf, len, &d) == -1)
			fail_msg("%s: libpng refuses the file", c->name);
		assert_int_equal(d.w, c->w);
		assert_int_equal(d.h, c->h);
		assert_int_equal(d.depth, c->depth);
		assert_int_equal(d.color_type, c->npal > 0 ?
		    PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY);
		assert_int_equal(d.interlace, PNG_INTERLACE_NONE);
		assert_true(d.has_phys);
		assert_int_equal(d.unit, PNG_RESOLUTION_METER);
		assert_int_equal(d.ppm_x, 11811);
		assert_int_equal(d.ppm_y, 11811);
		assert_int_equal(d.npal, c->npal);
		for (int i = 0; i < c->npal; i++)
			assert_true(d.pal[i].red == img.pal[i][0] &&
			    d.pal[i].green == img.pal[i][1] &&
			    d.pal[i].blue == img.pal[i][2]);
		for (int y = 0; y < c->h; y++) {
			const uint8_t *row = d.rows + (size_t)y * d.rowbytes;

			for (int x = 0; x < c->w; x++)
				if (sample_at(row, x, c->depth) !=
				    img.sample[px[(size_t)y * (size_t)c->w +
				    (size_t)x]])
					fail_msg("%s: pixel (%d,%d) is %u, want "
					    "%u", c->name, x, y,
					    sample_at(row, x, c->depth),
					    img.sample[px[(size_t)y *
					    (size_t)c->w + (size_t)x]]);
			/* the stream is filter type 0 and the row packed
			 * with zero bits after the last pixel (libpng
			 * leaves those of its buffer as they were): its
			 * Adler-32, byte by byte */
			b = (b + a) % 65521;
			for (size_t i = 0; i < d.rowbytes; i++) {
				unsigned byte = 0;

				for (int j = 0; j < 8 / c->depth; j++) {
					int x = (int)i * (8 / c->depth) + j;

					byte = byte << c->depth | (x < c->w ?
					    img.sample[px[(size_t)y *
					    (size_t)c->w + (size_t)x]] : 0u);
				}
				a = (a + (byte & 0xff)) % 65521;
				b = (b + a) % 65521;
			}
		}
		n = be32(buf + idat);
		if (be32(buf + idat + 8 + n - 4) != (b << 16 | a))
			fail_msg("%s: Adler-32 %08x, want %08x", c->name,
			    be32(buf + idat + 8 + n - 4), b << 16 | a);
		/* flat and repeated rows cost little */
		if (c->pat == FLAT)
			assert_true(len < 200 + 3 * (size_t)c->h);
		free(d.rows);
		free(buf);
		free(px);
	}
}

/* A damaged file is refused: a flipped bit in the deflate data (the CRC
 * no longer matches), and a wrong Adler-32 under a right CRC (the twin of
 * the check above: libpng reads the checksum, so a file it accepts has a
 * right one). */
static void
test_damage(void **state)
{
	const struct wcase *c = &cases[4];
	uint8_t *px = make_pixels(c), *buf;
	jcs_png_image img;
	struct decoded d;
	size_t len, idat, n;
	uint32_t crc;

	(void)state;
	memset(&img, 0, sizeof(img));
	img.w = c->w;
	img.h = c->h;
	img.depth = c->depth;
	img.px = px;
	for (int i = 0; i < 16; i++)
		img.sample[i] = (uint8_t)i;
	assert_int_equal(jcs_png_write_flat(&img, NULL, &buf, &len), 0);
	idat = check_chunks(buf, len);
	n = be32(buf + idat);
	assert_int_equal(decode(buf, len, &d), 0);
	free(d.rows);
	/* no pHYs when ppm is 0 */
	assert_false(d.has_phys);
	buf[idat + 8 + n / 2] ^= 0x10;
	assert_int_equal(decode(buf, len, &d), -1);
	buf[idat + 8 + n / 2] ^= 0x10;
	buf[idat + 8 + n - 1] ^= 0x01;
	crc = ref_crc(buf + idat + 4, n + 4);
	for (int i = 0; i < 4; i++)
		buf[idat + 8 + n + (size_t)i] = (uint8_t)(crc >> (24 - 8 * i));
	assert_int_equal(decode(buf, len, &d), -1);
	free(buf);
	free(px);
}

/* What the writer refuses, each with no output. */
static void
test_bad_images(void **state)
{
	static const struct {
		int w, h, depth, npal;
	} bad[] = {
		{ 0, 1, 8, 0 }, { 1, 0, 8, 0 }, { -5, 1, 8, 0 },
		{ 1, 1, 3, 0 }, { 1, 1, 16, 0 }, { 1, 1, 0, 0 },
		{ 1, 1, 8, 257 }, { 1, 1, 8, -1 },
		/* a row over 32767 bytes: beyond deflate's reach */
		{ 40000, 1, 8, 0 },
	};
	static uint8_t px[40000];

	(void)state;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		jcs_png_image img;
		uint8_t *buf = (uint8_t *)"x";
		size_t len = 1;

		memset(&img, 0, sizeof(img));
		img.w = bad[k].w;
		img.h = bad[k].h;
		img.depth = bad[k].depth;
		img.npal = bad[k].npal;
		img.px = px;
		assert_int_equal(jcs_png_write_flat(&img, NULL, &buf, &len), -1);
		assert_null(buf);
		assert_int_equal(len, 0);
	}
}

/* A keep reuses the rows of the image written before where this one's
 * agree, and the file is the one written without it, byte for byte: a
 * batch's labels (a block that changes as a QR code does, a line that
 * changes as a serial does, the first and last rows and bytes), then the
 * same size with other samples, a width of the same row length, another
 * depth, a keep given no pixels of the image before, and back. A writer
 * that took a row of the image before where one pixel differs would write
 * that pixel's old sample. */
static void
test_keep(void **state)
{
	static const struct {
		int w, h, depth, flip, was;
		int qr, line, edge;    /* what differs from the base */
	} seq[] = {
		{ 827, 120, 4, 0, 1, 0, 0, 0 },
		{ 827, 120, 4, 0, 1, 1, 1, 0 },
		{ 827, 120, 4, 0, 1, 2, 2, 0 },
		{ 827, 120, 4, 0, 1, 3, 2, 1 },
		{ 827, 120, 4, 0, 1, 3, 2, 1 },   /* the same image again */
		{ 827, 120, 4, 0, 1, 4, 0, 2 },
		{ 827, 120, 4, 1, 1, 5, 3, 0 },   /* other samples */
		{ 828, 120, 4, 1, 1, 5, 3, 0 },   /* rows of the same length */
		{ 828, 120, 8, 1, 1, 6, 3, 0 },
		{ 828, 120, 8, 1, 0, 7, 1, 0 },   /* no pixels given */
		{ 828, 120, 8, 1, 1, 8, 1, 3 },
		{ 827, 121, 4, 0, 1, 9, 2, 0 },
		{ 827, 121, 4, 0, 1, 10, 4, 1 },
	};
	jcs_png_keep *keep = jcs_png_keep_new();
	uint8_t *last = NULL;
	int last_w = 0, last_h = 0;

	(void)state;
	assert_non_null(keep);
	for (size_t k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
		int w = seq[k].w, h = seq[k].h;
		uint8_t *px = malloc((size_t)w * (size_t)h), *a, *b;
		size_t alen, blen;
		jcs_png_image img;
		struct decoded d;

		assert_non_null(px);
		/* the base: rows that repeat in fours, and soft "text" */
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				px[(size_t)y * (size_t)w + (size_t)x] = (uint8_t)(
				    x > 400 && y % 13 < 9 ? (x * 7 + y * 3) % 16 :
				    (x / 4 + y / 4) % 3 == 0 ? 1 : 0);
		/* a "code" of 4-pixel modules, other per label */
		lcg = 1000u + (uint32_t)seq[k].qr;
		for (int y = 10; y < 100; y += 4)
			for (int x = 20; x < 200; x += 4) {
				uint8_t v = (uint8_t)rnd(2);

				for (int dy = 0; dy < 4; dy++)
					memset(px + (size_t)(y + dy) * (size_t)w +
					    (size_t)x, v, 4);
			}
		/* a line of which a part changes */
		for (int y = 104; y < 112; y++)
			for (int x = 0; x < 6 * seq[k].line; x++)
				px[(size_t)y * (size_t)w + (size_t)(500 + x)] =
				    (uint8_t)((x * 5 + y + seq[k].line) % 16);
		/* the first pixel, the last, the last row */
		if (seq[k].edge & 1)
			px[0] = 15;
		if (seq[k].edge & 2)
			memset(px + (size_t)(h - 1) * (size_t)w, 9, (size_t)w);
		if (seq[k].edge == 3)
			px[(size_t)w * (size_t)h - 1] = 3;
		memset(&img, 0, sizeof(img));
		img.w = w;
		img.h = h;
		img.depth = seq[k].depth;
		img.px = px;
		img.ppm = 11811;
		for (int i = 0; i < 256; i++)
			img.sample[i] = (uint8_t)((seq[k].flip ? 15 - i % 16 :
			    i % 16) % (1 << seq[k].depth));
		assert_int_equal(jcs_png_write_flat(&img, NULL, &a, &alen), 0);
		img.was = seq[k].was && last != NULL && last_w == w &&
		    last_h == h ? last : NULL;
		assert_int_equal(jcs_png_write_flat(&img, keep, &b, &blen), 0);
		if (alen != blen || memcmp(a, b, alen) != 0)
			fail_msg("image %zu: %zu bytes with a keep, %zu without, "
			    "not the same", k, blen, alen);
		assert_true(jcs_png_keep_size(keep) > 0);
		assert_int_equal(decode(b, blen, &d), 0);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				if (sample_at(d.rows + (size_t)y * d.rowbytes, x,
				    img.depth) != img.sample[px[(size_t)y *
				    (size_t)w + (size_t)x]])
					fail_msg("image %zu: pixel (%d,%d)", k, x,
					    y);
		free(d.rows);
		free(a);
		free(b);
		free(last);
		last = px;
		last_w = w;
		last_h = h;
	}
	free(last);
	jcs_png_keep_free(keep);
	jcs_png_keep_free(NULL);
	assert_int_equal(jcs_png_keep_size(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_keep),
	};

	return cmocka_run_group_tests_name("pngwrite", tests, NULL, NULL);
}
