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
 * A batch's labels differ from one to the next in the QR code and a line
 * or two, so a keep (jcs_png_keep) holds the last image's filtered rows and,
 * every 16 bytes or so of each row, where its parse was and at which bit.
 * The parse from a position depends only on the row from the byte before
 * it and on the row above from it, so where both agree with the last
 * image's to the end of the row and the last parse was at that position,
 * the rest of the row is the last image's bits, copied. Rows are packed
 * again only where their pixels differ from the last image's (given as
 * jcs_png_image.was). The file is the same, byte for byte, as written
 * without a keep. On that label, consecutive labels of a batch: about
 * 0.25 ms (perf, on a loaded 2-core machine), most of it the QR code's
 * rows, which differ.
 *
 * The zlib wrapper (RFC 1950) carries an Adler-32 of the filtered rows, each
 * chunk a CRC-32 (ISO 3309, as PNG and zlib compute it); both are computed
 * here, since the library does not link zlib itself.
 */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

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
static inline void
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
 * followed by k zero bytes, so that eight bytes take one step. Made once
 * (crc_once). */
static uint32_t crc[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_table(void)
{
	uint32_t (*t)[256] = crc;

	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[0][n] = c;
	}
	for (int k = 1; k < 8; k++)
		for (int n = 0; n < 256; n++)
			t[k][n] = t[k - 1][n] >> 8 ^ t[0][t[k - 1][n] & 0xff];
}

static uint32_t
crc32_of(const uint8_t *p, size_t n)
{
	const uint32_t (*t)[256] = crc;
	uint32_t c = 0xffffffffu;

	for (; n >= 8; n -= 8, p += 8) {
		c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		c = t[7][c & 0xff] ^ t[6][c >> 8 & 0xff] ^
		    t[5][c >> 16 & 0xff] ^ t[4][c >> 24] ^ t[3][p[4]] ^
		    t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
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
		/* 16 bytes a step, with sums that do not wait on each
		 * other: w gains 16 s, then byte j of the 16 times 16 - j */
		for (; k >= 16; k -= 16, p += 16) {
			uint32_t bs = 0, bw = 0;

			for (uint32_t j = 0; j < 16; j++) {
				bs += p[j];
				bw += (16 - j) * p[j];
			}
			w += 16 * s + bw;
			s += bs;
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

/* How many of the first max bytes of a and b agree (32 at a time while
 * they do: rows agree for hundreds of bytes). */
static size_t
same(const uint8_t *a, const uint8_t *b, size_t max)
{
	size_t n = 0;

	while (n + 32 <= max && memcmp(a + n, b + n, 32) == 0)
		n += 32;
	while (n + 8 <= max && memcmp(a + n, b + n, 8) == 0)
		n += 8;
	while (n < max && a[n] == b[n])
		n++;
	return n;
}

/* How far from the end the first n bytes of a and b agree: the first byte
 * of their longest common end. */
static size_t
same_end(const uint8_t *a, const uint8_t *b, size_t n)
{
	while (n >= 32 && memcmp(a + n - 32, b + n - 32, 32) == 0)
		n -= 32;
	while (n >= 8 && memcmp(a + n - 8, b + n - 8, 8) == 0)
		n -= 8;
	while (n > 0 && a[n - 1] == b[n - 1])
		n--;
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

/* Where a greedy parse of a row was at the top of its loop: the parse from
 * pos on depends only on the row's bytes from pos - 1 on and the row
 * above's from pos on, so another image whose rows agree there can take
 * the bits from bit on. One is kept every BOUND_STEP bytes or so: a parse
 * that meets another's goes on as it does, to its next kept bound. */
struct bound {
	uint16_t pos;        /* rows are at most 32768 bytes */
	uint32_t bit;        /* from the row's first bit */
};

#define BOUND_STEP 16

/* One image's deflate stream as the writer keeps it: its bounds (row y's
 * from first[y] to first[y + 1]), where each row's bits start (at[y];
 * at[h]: the end), each row's part of Adler-32, and how much of each row's
 * end is the same as the image before's (suf[y]: row y agrees from byte
 * suf[y] on). */
struct gen {
	struct bound *b;
	size_t nb, b_cap;
	size_t *first;
	uint64_t *at;
	struct rowsum *rs;
	size_t *suf;
};

struct jcs_png_keep {
	size_t stride;       /* of the image kept; 0: none */
	int w, h, depth;
	uint8_t sample[256];
	uint8_t *rows;       /* its filtered rows, h * stride */
	size_t rows_cap;
	int last;            /* g[last] is the image before, g[!last] the next */
	struct gen g[2];
	int h_cap;           /* of both g[]'s arrays per row */
	uint8_t *bits;       /* the image before's deflate stream, padded */
	size_t bits_len, bits_cap;
	size_t bytes;        /* what it holds, for jcs_png_keep_size() */
};

/* What deflate_row may take from the image before: its row's bounds
 * (from b to be), the bits where its row starts and ends, its stream; from
 * byte min on, the rows agree as a parse needs. With b NULL, nothing. */
struct sync {
	const struct bound *b, *be;
	uint64_t start, end;
	const uint8_t *bits;
	size_t min;
	struct gen *g;       /* where this row's bounds go; NULL: nowhere */
	uint64_t row;        /* the bit where this row starts */
	size_t base;         /* the stream's first byte in the output */
};

static uint64_t
bitpos(const struct out *o, size_t base)
{
	return (uint64_t)(o->len - base) * 8 + (uint64_t)o->bits;
}

/* Appends bits from to to of stream src (room reserved; src has 8 bytes
 * after its last). */
static void
copy_bits(struct out *o, const uint8_t *src, uint64_t from, uint64_t to)
{
	while (from < to) {
		const uint8_t *p = src + (from >> 3);
		int k = to - from < 32 ? (int)(to - from) : 32;
		uint64_t w = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
		    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
		    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
		    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;

		w >>= from & 7;
		put_bits(o, (uint32_t)(w & ((1ull << k) - 1)), k);
		from += (uint64_t)k;
	}
}

/* Deflates one filtered row (n bytes at cur; prev is the row before it in
 * the stream, or NULL for the first), whose first start bytes are those of
 * prev. Room for n * 9 / 8 + 16 bytes is reserved: a literal is at most 9
 * bits, a match of at least 3 bytes at most 25 (7 + 18). From where the
 * parse reaches a bound of the image before's row at or past s->min, the
 * rest of the row is that row's bits: the same symbols. */
static void
deflate_row(struct out *o, const struct fixed *f, const uint8_t *cur,
    const uint8_t *prev, size_t n, size_t start, struct sync *s)
{
	size_t i = 0, keep_at = 0;

	if (start >= MIN_MATCH) {
		put_match(o, f, start, &f->dist_row);
		i = start;
	}
	while (i < n) {
		uint8_t before = i > 0 ? cur[i - 1] : prev != NULL ?
		    prev[n - 1] : (uint8_t)~cur[0];
		size_t up = 0, rl = 0;

		if (s->b != NULL && i >= s->min) {
			while (s->b < s->be && s->b->pos < i)
				s->b++;
			if (s->b < s->be && s->b->pos == i) {
				/* the old row's bounds, from the new row's
				 * first bit */
				uint32_t at = (uint32_t)(bitpos(o, s->base) -
				    s->row), was = s->b->bit;

				for (const struct bound *b = s->b; s->g != NULL &&
				    b < s->be; b++) {
					s->g->b[s->g->nb].pos = b->pos;
					s->g->b[s->g->nb++].bit = at + (b->bit -
					    was);
				}
				copy_bits(o, s->bits, s->start + was, s->end);
				return;
			}
		}
		if (s->g != NULL && i >= keep_at) {
			s->g->b[s->g->nb].pos = (uint16_t)i;
			s->g->b[s->g->nb++].bit = (uint32_t)(bitpos(o,
			    s->base) - s->row);
			keep_at = i + BOUND_STEP;
		}
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
chunk(struct out *o, const char *type,
    const uint8_t *data, size_t n)
{
	size_t start;

	if (reserve(o, n + 12) == -1)
		return;
	put_be32(o, (uint32_t)n);
	start = o->len;
	put_bytes(o, type, 4);
	put_bytes(o, data, n);
	put_be32(o, crc32_of(o->p + start, n + 4));
}

static void
gen_free(struct gen *g)
{
	free(g->b);
	free(g->first);
	free(g->at);
	free(g->rs);
	free(g->suf);
	memset(g, 0, sizeof(*g));
}

jcs_png_keep *
jcs_png_keep_new(void)
{
	return calloc(1, sizeof(jcs_png_keep));
}

void
jcs_png_keep_free(jcs_png_keep *k)
{
	if (k == NULL)
		return;
	gen_free(&k->g[0]);
	gen_free(&k->g[1]);
	free(k->rows);
	free(k->bits);
	free(k);
}

size_t
jcs_png_keep_size(const jcs_png_keep *k)
{
	return k != NULL ? k->bytes : 0;
}

/* Makes room in k for an image of h rows of stride bytes (its two
 * generations). Returns 0, or -1 (k then keeps nothing). */
static int
keep_room(jcs_png_keep *k, int h, size_t stride)
{
	size_t rows = (size_t)h * stride, nh = (size_t)h + 1;

	if (rows > k->rows_cap) {
		uint8_t *p = realloc(k->rows, rows);

		if (p == NULL)
			goto err;
		k->rows = p;
		k->rows_cap = rows;
	}
	if (h > k->h_cap) {
		for (int i = 0; i < 2; i++) {
			struct gen *g = &k->g[i];
			void *p;

			if ((p = realloc(g->first, nh *
			    sizeof(*g->first))) == NULL)
				goto err;
			g->first = p;
			if ((p = realloc(g->at, nh *
			    sizeof(*g->at))) == NULL)
				goto err;
			g->at = p;
			if ((p = realloc(g->rs, nh * sizeof(*g->rs))) ==
			    NULL)
				goto err;
			g->rs = p;
			if ((p = realloc(g->suf, nh *
			    sizeof(*g->suf))) == NULL)
				goto err;
			g->suf = p;
		}
		k->h_cap = h;
	}
	return 0;
err:
	/* what was grown and what was not: start over */
	gen_free(&k->g[0]);
	gen_free(&k->g[1]);
	free(k->rows);
	k->rows = NULL;
	k->rows_cap = 0;
	k->h_cap = 0;
	k->stride = 0;
	return -1;
}

/* Makes room for n more bounds in g. */
static int
bound_room(struct gen *g, size_t n)
{
	struct bound *p;
	size_t cap;

	if (g->b_cap - g->nb >= n)
		return 0;
	cap = g->b_cap == 0 ? 4096 : g->b_cap;
	while (cap - g->nb < n)
		cap *= 2;
	if ((p = realloc(g->b, cap * sizeof(*p))) == NULL)
		return -1;
	g->b = p;
	g->b_cap = cap;
	return 0;
}

/* Keeps the stream (bytes from..to of o) as the one of the image before. */
static int
keep_bits(jcs_png_keep *k, const struct out *o, size_t from)
{
	size_t n = o->len - from;

	if (n + 8 > k->bits_cap) {
		uint8_t *p = realloc(k->bits, n + 8);

		if (p == NULL)
			return -1;
		k->bits = p;
		k->bits_cap = n + 8;
	}
	memcpy(k->bits, o->p + from, n);
	memset(k->bits + n, 0, 8);
	k->bits_len = n;
	return 0;
}

int
jcs_png_write_flat(const jcs_png_image *img, jcs_png_keep *keep,
    uint8_t **out, size_t *outlen)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
		'\n' };
	struct out o;
	struct fixed f;
	struct gen *g = NULL, *old = NULL;
	uint32_t adler = 1;
	uint8_t hdr[13], phys[9], *ring = NULL, *cur, *prev = NULL;
	size_t stride, idat, base, w = (size_t)img->w;
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
	if (pthread_once(&crc_once, crc_table) != 0)
		return -1;
	fixed_init(&f, (int)stride);
	if (keep != NULL && keep_room(keep, img->h, stride) == 0) {
		g = &keep->g[!keep->last];
		g->nb = 0;
		/* the image before: its pixels, and the same packing */
		if (img->was != NULL && keep->stride == stride &&
		    keep->w == img->w && keep->h == img->h &&
		    keep->depth == img->depth &&
		    memcmp(keep->sample, img->sample, 256) == 0)
			old = &keep->g[keep->last];
		keep->stride = 0;           /* until this image is kept */
	} else if ((ring = malloc(2 * stride)) == NULL) {
		return -1;
	}

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
	chunk(&o, "IHDR", hdr, sizeof(hdr));
	if (img->npal > 0)
		chunk(&o, "PLTE", img->pal[0], (size_t)img->npal * 3);
	if (img->ppm > 0)
		chunk(&o, "pHYs", phys, sizeof(phys));

	/* IDAT: its length is filled in at the end */
	if (reserve(&o, 10) == -1)
		goto err;
	idat = o.len;
	put_be32(&o, 0);
	put_bytes(&o, "IDAT", 4);
	/* zlib header: deflate, 32 KB window, no dictionary, "fastest" */
	put_bytes(&o, "\x78\x01", 2);
	base = o.len;
	put_bits(&o, 1, 1);                 /* the final block */
	put_bits(&o, 1, 2);                 /* fixed codes */
	for (int y = 0; y < img->h; y++) {
		const uint8_t *px = img->px + (size_t)y * w;
		size_t lo = 0, hi = w;
		struct sync s;

		cur = g != NULL ? keep->rows + (size_t)y * stride :
		    ring + (size_t)(y & 1) * stride;
		if (reserve(&o, stride + stride / 8 + 16) == -1 ||
		    (g != NULL && bound_room(g, stride + 1) == -1))
			goto err;
		if (g != NULL) {
			g->first[y] = g->nb;
			g->at[y] = bitpos(&o, base);
		}
		if (old != NULL) {
			/* cur is the image before's row: packed again where
			 * the pixels differ from its, but copied from the row
			 * above in whole bytes of pixels that are the same as
			 * above (left of lo); it agrees from suf on */
			const uint8_t *was = img->was + (size_t)y * w;
			size_t a = same(px, was, w), b, c0, c1;
			size_t per = 8 / (size_t)img->depth;

			lo = y > 0 ? same(px, px - w, w) : 0;
			g->suf[y] = 0;
			if (a < w) {
				b = a + same_end(px + a, was + a, w - a);
				c0 = a - a % per;
				c1 = lo < b ? lo : b;
				c1 -= c1 % per;
				if (c1 > c0)
					memcpy(cur + 1 + c0 / per, prev + 1 +
					    c0 / per, (c1 - c0) / per);
				else
					c1 = a;
				if (c1 < b)
					pack(cur, px, img->sample, w,
					    img->depth, c1, b);
				g->suf[y] = 2 + (b - 1) * (size_t)img->depth / 8;
			}
		}
		if (y > 0 && (old != NULL ? lo == w :
		    memcmp(px, px - w, w) == 0)) {
			/* the same samples: the same filtered row */
			if (old == NULL)
				memcpy(cur, prev, stride);
			put_match(&o, &f, stride, &f.dist_row);
			adler = adler_add(adler, rs, stride);
			goto next;
		}
		if (old == NULL) {
			if (y > 0) {
				/* the row above, packed again where it
				 * differs */
				lo = same(px, px - w, w);
				hi = lo + same_end(px + lo, px + lo - w, w - lo);
				memcpy(cur, prev, stride);
			}
			pack(cur, px, img->sample, w, img->depth, lo, hi);
		}
		memset(&s, 0, sizeof(s));
		s.g = g;
		s.base = base;
		s.row = g != NULL ? g->at[y] : 0;
		if (old != NULL) {
			/* the parse from i reads the byte before i, and the
			 * row above from i */
			s.min = g->suf[y] + 1;
			if (y > 0 && g->suf[y - 1] > s.min)
				s.min = g->suf[y - 1];
			s.b = old->b + old->first[y];
			s.be = old->b + old->first[y + 1];
			s.start = old->at[y];
			s.end = old->at[y + 1];
			s.bits = keep->bits;
		}
		deflate_row(&o, &f, cur, y > 0 ? prev : NULL, stride,
		    1 + lo * (size_t)img->depth / 8, &s);
		if (old != NULL && g->suf[y] == 0)
			rs = old->rs[y];
		else
			rs = row_sum(cur, stride);
		adler = adler_add(adler, rs, stride);
next:
		if (g != NULL)
			g->rs[y] = rs;
		prev = cur;
	}
	if (g != NULL) {
		g->first[img->h] = g->nb;
		g->at[img->h] = bitpos(&o, base);
	}
	if (reserve(&o, 32) == -1)
		goto err;
	put_bits(&o, f.lit[256].bits, f.lit[256].n);
	flush_bits(&o);
	if (g != NULL) {
		if (keep_bits(keep, &o, base) == 0) {
			keep->stride = stride;
			keep->w = img->w;
			keep->h = img->h;
			keep->depth = img->depth;
			memcpy(keep->sample, img->sample, 256);
			keep->last = !keep->last;
		}
		keep->bytes = keep->rows_cap + keep->bits_cap +
		    (keep->g[0].b_cap + keep->g[1].b_cap) *
		    sizeof(struct bound) + 2 * (size_t)(keep->h_cap + 1) *
		    (2 * sizeof(size_t) + sizeof(uint64_t) +
		    sizeof(struct rowsum));
	}
	put_be32(&o, adler);
	{
		size_t n = o.len - idat - 8;
		uint32_t c = crc32_of(o.p + idat + 4, n + 4);

		o.p[idat] = (uint8_t)(n >> 24);
		o.p[idat + 1] = (uint8_t)(n >> 16);
		o.p[idat + 2] = (uint8_t)(n >> 8);
		o.p[idat + 3] = (uint8_t)n;
		put_be32(&o, c);
	}
	chunk(&o, "IEND", (const uint8_t *)"", 0);
	if (o.oom)
		goto err;
	free(ring);
	*out = o.p;
	*outlen = o.len;
	return 0;
err:
	if (keep != NULL)
		keep->stride = 0;
	free(ring);
	free(o.p);
	return -1;
}
