/*
 * pngwrite.c - a PNG writer for flat artwork (render.c's labels).
 *
 * Label artwork is a few flat colours whose rows repeat: a QR module is
 * several pixels high, and most of a label is background. zlib spends its
 * time searching for matches that this structure hands over for free, so
 * here the deflate stream (RFC 1951) is written directly, as one block with
 * the fixed Huffman codes, from three kinds of symbol:
 *
 *   - a row equal to the one above: one copy at the distance of a row;
 *   - otherwise, per position, the longer of the run that repeats the byte
 *     before (distance 1) and of the match with the row above;
 *   - else a literal byte.
 *
 * Every row has filter type 0 (None): the copy from the row above does what
 * the Up filter would. Measured on the jcstar-1 label at 300 dpi (827 x 449,
 * 4-bit grey): about 0.6 ms for 24 KB, packing and checksums included;
 * libpng took 0.9 ms for 18 KB with zlib's best strategy for it (Z_RLE on
 * Up-filtered rows) and 3.2 ms for 15 KB at level 6.
 *
 * The zlib wrapper (RFC 1950) carries an Adler-32 of the filtered rows, each
 * chunk a CRC-32 (ISO 3309, as PNG and zlib compute it); both are computed
 * here, since the library does not link zlib itself.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ADLER_MOD 65521u
#define MAX_MATCH 258
#define MIN_MATCH 3
#define MAX_DIST 32768

/* ---- output ---------------------------------------------------------- */

struct out {
	uint8_t *p;
	size_t len, cap;
	int oom;
	uint64_t acc;    /* bits not yet written, the first in bit 0 */
	int bits;
};

/* Makes room for n more bytes. */
static int
reserve(struct out *o, size_t n)
{
	size_t cap = o->cap == 0 ? 65536 : o->cap;
	uint8_t *np;

	if (o->oom)
		return -1;
	if (n <= o->cap - o->len)
		return 0;
	while (cap - o->len < n)
		cap *= 2;
	if ((np = realloc(o->p, cap)) == NULL) {
		o->oom = 1;
		return -1;
	}
	o->p = np;
	o->cap = cap;
	return 0;
}

/* Appends bytes (room reserved). */
static void
put_bytes(struct out *o, const void *p, size_t n)
{
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
put_be32(struct out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		(uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(o, b, 4);
}

/* Appends n (at most 32) bits of v, least significant first; the
 * accumulator is written four bytes at a time (room reserved). */
static void
put_bits(struct out *o, uint32_t v, int n)
{
	o->acc |= (uint64_t)v << o->bits;
	o->bits += n;
	if (o->bits >= 32) {
		o->p[o->len] = (uint8_t)o->acc;
		o->p[o->len + 1] = (uint8_t)(o->acc >> 8);
		o->p[o->len + 2] = (uint8_t)(o->acc >> 16);
		o->p[o->len + 3] = (uint8_t)(o->acc >> 24);
		o->len += 4;
		o->acc >>= 32;
		o->bits -= 32;
	}
}

/* Writes the bits left, padded to a whole byte. */
static void
flush_bits(struct out *o)
{
	while (o->bits > 0) {
		o->p[o->len++] = (uint8_t)o->acc;
		o->acc >>= 8;
		o->bits -= 8;
	}
	o->acc = 0;
	o->bits = 0;
}

/* ---- checksums ------------------------------------------------------- */

/* t[0] is the byte-at-a-time table; t[k][n] is the CRC of byte n
 * followed by k zero bytes, so that four bytes take one step. */
static void
crc_table(uint32_t t[4][256])
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[0][n] = c;
	}
	for (int k = 1; k < 4; k++)
		for (int n = 0; n < 256; n++)
			t[k][n] = t[k - 1][n] >> 8 ^ t[0][t[k - 1][n] & 0xff];
}

static uint32_t
crc32_of(const uint32_t t[4][256], const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (; n >= 4; n -= 4, p += 4) {
		c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		c = t[3][c & 0xff] ^ t[2][c >> 8 & 0xff] ^
		    t[1][c >> 16 & 0xff] ^ t[0][c >> 24];
	}
	while (n-- > 0)
		c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* A row's part of Adler-32, to be added once per time it appears: the sum
 * of its bytes and the sum of its running sums, modulo 65521. */
struct rowsum {
	uint32_t s, w;
};

static struct rowsum
row_sum(const uint8_t *p, size_t n)
{
	/* as zlib: 5552 bytes at most between reductions keep w below
	 * 2^32 */
	uint32_t s = 0, w = 0;
	struct rowsum r;

	while (n > 0) {
		size_t k = n < 5552 ? n : 5552;

		n -= k;
		for (; k >= 4; k -= 4, p += 4) {
			s += p[0];
			w += s;
			s += p[1];
			w += s;
			s += p[2];
			w += s;
			s += p[3];
			w += s;
		}
		for (; k > 0; k--, p++) {
			s += *p;
			w += s;
		}
		s %= ADLER_MOD;
		w %= ADLER_MOD;
	}
	r.s = s;
	r.w = w;
	return r;
}

/* Adler-32 (a in the low half, b in the high) after n more bytes whose
 * row_sum is r: a += S, b += n * a + W. */
static uint32_t
adler_add(uint32_t adler, struct rowsum r, size_t n)
{
	uint64_t a = adler & 0xffff, b = adler >> 16;

	b = (b + (uint64_t)(n % ADLER_MOD) * a + r.w) % ADLER_MOD;
	a = (a + r.s) % ADLER_MOD;
	return (uint32_t)(b << 16 | a);
}

/* ---- deflate with the fixed codes ------------------------------------ */

static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15,
	17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
	227, 258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
	2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25,
	33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
	4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4,
	5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

/* A symbol as the bits to write, first bit in bit 0. */
struct code {
	uint32_t bits;
	int n;
};

struct fixed {
	struct code lit[257];               /* literals and end of block */
	struct code len[MAX_MATCH + 1];     /* length code + extra bits */
	struct code dist_row, dist_1;       /* the two distances used */
};

static uint32_t
reverse(uint32_t c, int n)
{
	uint32_t r = 0;

	for (int i = 0; i < n; i++, c >>= 1)
		r = r << 1 | (c & 1);
	return r;
}

/* The fixed literal/length code of symbol sym (RFC 1951, 3.2.6), bit
 * order reversed for writing. */
static struct code
fixed_lit(int sym)
{
	struct code c;

	if (sym < 144)
		c.bits = 0x30u + (uint32_t)sym, c.n = 8;
	else if (sym < 256)
		c.bits = 0x190u + (uint32_t)(sym - 144), c.n = 9;
	else if (sym < 280)
		c.bits = (uint32_t)(sym - 256), c.n = 7;
	else
		c.bits = 0xc0u + (uint32_t)(sym - 280), c.n = 8;
	c.bits = reverse(c.bits, c.n);
	return c;
}

static struct code
fixed_dist(int dist)
{
	struct code c;
	int d = 29;

	while (dist_base[d] > dist)
		d--;
	c.bits = reverse((uint32_t)d, 5) |
	    (uint32_t)(dist - dist_base[d]) << 5;
	c.n = 5 + dist_extra[d];
	return c;
}

static void
fixed_init(struct fixed *f, int row_dist)
{
	for (int s = 0; s <= 256; s++)
		f->lit[s] = fixed_lit(s);
	for (int len = MIN_MATCH; len <= MAX_MATCH; len++) {
		int i = 28;
		struct code c;

		while (len_base[i] > len)
			i--;
		c = fixed_lit(257 + i);
		f->len[len].bits = c.bits |
		    (uint32_t)(len - len_base[i]) << c.n;
		f->len[len].n = c.n + len_extra[i];
	}
	f->dist_row = fixed_dist(row_dist);
	f->dist_1 = fixed_dist(1);
}

/* Writes a match of len bytes (at least MIN_MATCH) at distance d, split
 * into pieces of at most MAX_MATCH that are never below MIN_MATCH. */
static void
put_match(struct out *o, const struct fixed *f, size_t len,
    const struct code *d)
{
	while (len > 0) {
		size_t m = len;

		if (len > MAX_MATCH)
			m = len - MAX_MATCH < MIN_MATCH ? len - MIN_MATCH :
			    MAX_MATCH;
		put_bits(o, f->len[m].bits, f->len[m].n);
		put_bits(o, d->bits, d->n);
		len -= m;
	}
}

/* How many of the first max bytes of a and b agree. */
static size_t
same(const uint8_t *a, const uint8_t *b, size_t max)
{
	size_t n = 0;

	while (n + 8 <= max && memcmp(a + n, b + n, 8) == 0)
		n += 8;
	while (n < max && a[n] == b[n])
		n++;
	return n;
}

/* How many of the first max bytes of a are v. */
static size_t
run(const uint8_t *a, uint8_t v, size_t max)
{
	uint64_t vv = 0x0101010101010101u * v, w;
	size_t n = 0;

	/* eight equal bytes: the same word in any byte order */
	for (; n + 8 <= max; n += 8) {
		memcpy(&w, a + n, 8);
		if (w != vv)
			break;
	}
	while (n < max && a[n] == v)
		n++;
	return n;
}

/* Deflates one filtered row (n bytes at cur; prev is the row before it in
 * the stream, or NULL for the first), whose first start bytes are those of
 * prev. Room for n * 9 / 8 + 16 bytes is reserved: a literal is at most 9
 * bits, a match of at least 3 bytes at most 25 (7 + 18). */
static void
deflate_row(struct out *o, const struct fixed *f, const uint8_t *cur,
    const uint8_t *prev, size_t n, size_t start)
{
	size_t i = 0;

	if (start >= MIN_MATCH) {
		put_match(o, f, start, &f->dist_row);
		i = start;
	}
	while (i < n) {
		uint8_t before = i > 0 ? cur[i - 1] : prev != NULL ?
		    prev[n - 1] : (uint8_t)~cur[0];
		size_t up = 0, rl = 0;

		/* most positions in anti-aliased text start neither */
		if (prev != NULL && cur[i] == prev[i])
			up = same(cur + i, prev + i, n - i);
		if (cur[i] == before)
			rl = run(cur + i, before, n - i);
		if (up >= MIN_MATCH && up >= rl) {
			put_match(o, f, up, &f->dist_row);
			i += up;
		} else if (rl >= MIN_MATCH) {
			put_match(o, f, rl, &f->dist_1);
			i += rl;
		} else {
			put_bits(o, f->lit[cur[i]].bits, f->lit[cur[i]].n);
			i++;
		}
	}
}

/* ---- the file -------------------------------------------------------- */

/* Packs pixels x0 to x1 of a row (w pixels) as samples (sample[] of each
 * pixel) at depth bits, behind the filter type byte: the whole bytes that
 * hold them. */
static void
pack(uint8_t *row, const uint8_t *px, const uint8_t sample[256], size_t w,
    int depth, size_t x0, size_t x1)
{
	size_t per = 8 / (size_t)depth, x;
	uint8_t *o = row + 1;

	row[0] = 0;
	if (depth == 8) {
		for (x = x0; x < x1; x++)
			o[x] = sample[px[x]];
		return;
	}
	x0 -= x0 % per;
	if (depth == 4) {
		/* black and white artwork with anti-aliased text */
		for (x = x0; x + 1 < x1; x += 2)
			o[x / 2] = (uint8_t)(sample[px[x]] << 4 |
			    sample[px[x + 1]]);
		if (x < x1)
			o[x / 2] = (uint8_t)(sample[px[x]] << 4 |
			    (x + 1 < w ? sample[px[x + 1]] : 0u));
		return;
	}
	for (x = x0; x < x1;) {
		size_t byte = x / per;
		unsigned b = 0;

		for (size_t k = 0; k < per; k++, x++)
			b = b << depth | (x < w ? sample[px[x]] : 0u);
		o[byte] = (uint8_t)b;
	}
}

/* Appends a chunk: length, type, data, CRC of type and data. */
static void
chunk(struct out *o, const uint32_t crc[4][256], const char *type,
    const uint8_t *data, size_t n)
{
	size_t start;

	if (reserve(o, n + 12) == -1)
		return;
	put_be32(o, (uint32_t)n);
	start = o->len;
	put_bytes(o, type, 4);
	put_bytes(o, data, n);
	put_be32(o, crc32_of(crc, o->p + start, n + 4));
}

int
jcs_png_write_flat(const jcs_png_image *img, uint8_t **out, size_t *outlen)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
		'\n' };
	struct out o;
	struct fixed f;
	uint32_t crc[4][256], adler = 1;
	uint8_t hdr[13], phys[9], *rows = NULL, *cur, *prev;
	size_t stride, idat, w = (size_t)img->w;
	struct rowsum rs = { 0, 0 };

	memset(&o, 0, sizeof(o));
	*out = NULL;
	*outlen = 0;
	if (img->w <= 0 || img->h <= 0 || (img->depth != 1 &&
	    img->depth != 2 && img->depth != 4 && img->depth != 8) ||
	    img->npal < 0 || img->npal > 256)
		return -1;
	stride = ((size_t)img->w * (size_t)img->depth + 7) / 8 + 1;
	if (stride > MAX_DIST)
		return -1;
	crc_table(crc);
	fixed_init(&f, (int)stride);
	if ((rows = malloc(2 * stride)) == NULL)
		return -1;
	cur = rows;
	prev = rows + stride;

	if (reserve(&o, sizeof(sig)) == -1)
		goto err;
	put_bytes(&o, sig, sizeof(sig));
	for (int i = 0; i < 4; i++) {
		hdr[i] = (uint8_t)((uint32_t)img->w >> (24 - 8 * i));
		hdr[4 + i] = (uint8_t)((uint32_t)img->h >> (24 - 8 * i));
		phys[i] = phys[4 + i] = (uint8_t)(img->ppm >> (24 - 8 * i));
	}
	hdr[8] = (uint8_t)img->depth;
	hdr[9] = img->npal > 0 ? 3 : 0;     /* palette, or greyscale */
	hdr[10] = hdr[11] = hdr[12] = 0;    /* deflate, filters, no interlace */
	phys[8] = 1;                        /* per metre */
	chunk(&o, crc, "IHDR", hdr, sizeof(hdr));
	if (img->npal > 0)
		chunk(&o, crc, "PLTE", img->pal[0], (size_t)img->npal * 3);
	if (img->ppm > 0)
		chunk(&o, crc, "pHYs", phys, sizeof(phys));

	/* IDAT: its length is filled in at the end */
	if (reserve(&o, 10) == -1)
		goto err;
	idat = o.len;
	put_be32(&o, 0);
	put_bytes(&o, "IDAT", 4);
	/* zlib header: deflate, 32 KB window, no dictionary, "fastest" */
	put_bytes(&o, "\x78\x01", 2);
	put_bits(&o, 1, 1);                 /* the final block */
	put_bits(&o, 1, 2);                 /* fixed codes */
	for (int y = 0; y < img->h; y++) {
		const uint8_t *px = img->px + (size_t)y * w;
		size_t lo = 0, hi = w;
		uint8_t *t;

		if (reserve(&o, stride + stride / 8 + 16) == -1)
			goto err;
		if (y > 0 && memcmp(px, px - w, w) == 0) {
			/* the same samples: the same filtered row */
			put_match(&o, &f, stride, &f.dist_row);
			adler = adler_add(adler, rs, stride);
			continue;
		}
		if (y > 0) {
			/* the row above, packed again where it differs */
			lo = same(px, px - w, w);
			while (hi - lo >= 8 &&
			    memcmp(px + hi - 8, px + hi - 8 - w, 8) == 0)
				hi -= 8;
			while (hi > lo && px[hi - 1] == px[hi - 1 - w])
				hi--;
			memcpy(cur, prev, stride);
		}
		pack(cur, px, img->sample, w, img->depth, lo, hi);
		deflate_row(&o, &f, cur, y > 0 ? prev : NULL, stride,
		    1 + lo * (size_t)img->depth / 8);
		rs = row_sum(cur, stride);
		adler = adler_add(adler, rs, stride);
		t = prev;
		prev = cur;
		cur = t;
	}
	if (reserve(&o, 32) == -1)
		goto err;
	put_bits(&o, f.lit[256].bits, f.lit[256].n);
	flush_bits(&o);
	put_be32(&o, adler);
	{
		size_t n = o.len - idat - 8;
		uint32_t c = crc32_of(crc, o.p + idat + 4, n + 4);

		o.p[idat] = (uint8_t)(n >> 24);
		o.p[idat + 1] = (uint8_t)(n >> 16);
		o.p[idat + 2] = (uint8_t)(n >> 8);
		o.p[idat + 3] = (uint8_t)n;
		put_be32(&o, c);
	}
	chunk(&o, crc, "IEND", (const uint8_t *)"", 0);
	if (o.oom)
		goto err;
	free(rows);
	*out = o.p;
	*outlen = o.len;
	return 0;
err:
	free(rows);
	free(o.p);
	return -1;
}
