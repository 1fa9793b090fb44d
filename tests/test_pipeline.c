/* test_pipeline.c - the whole way and back, through the library only:
 * label -> payload -> QR -> PNG artwork (every template, with a label of its
 * scheme at every level its profile names it for, 300 and 600 dpi, both
 * forms) -> libzbar -> the same payload text -> the same label -> valid. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define BASE "HTTPS://VERIFY.JCSTAR.EXAMPLE/L/"

static void
round_trip(const char *tmpl_path, const jcs_label *label,
    const jcs_trust *trust, int dpi, int form)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_template *t = jcs_template_load(ctx, tmpl_path);
	jcs_verify_opts vo = { .at = tu_time("2026-01-01") };
	const uint8_t *der;
	size_t len, tlen, dlen;
	char *payload;
	uint8_t *png;
	jcs_scan *scan;
	jcs_label *back;

	if (t == NULL)
		fail_msg("%s: %s", tmpl_path, jcs_ctx_message(ctx));
	der = jcs_label_der(label, &dlen);
	payload = jcs_payload_encode(ctx, der, dlen, form, BASE);
	assert_non_null(payload);
	if (jcs_render_png(ctx, t, label, payload, dpi, &png, &len) == -1)
		fail_msg("%s at %d dpi: %s", tmpl_path, dpi,
		    jcs_ctx_message(ctx));
	scan = jcs_scan_mem(ctx, png, len);
	assert_non_null(scan);
	if (jcs_scan_count(scan) != 1)
		fail_msg("%s at %d dpi, form %d: libzbar found %zu codes (%s)",
		    tmpl_path, dpi, form, jcs_scan_count(scan),
		    jcs_ctx_message(ctx));
	assert_string_equal(jcs_scan_text(scan, 0, &tlen), payload);
	assert_int_equal(tlen, strlen(payload));
	back = jcs_label_from_payload(ctx, jcs_scan_text(scan, 0, NULL),
	    tlen);
	assert_non_null(back);
	assert_int_equal(jcs_verify(ctx, trust, back, &vo, NULL), 0);
	jcs_label_free(back);
	jcs_scan_free(scan);
	jcs_free(png);
	jcs_free(payload);
	jcs_template_free(t);
	jcs_ctx_free(ctx);
}

/* The levels at which the built-in profile of scheme names template name,
 * into levels; a template no profile names (jcstar-ja) serves the scheme's
 * lowest level. Returns how many. */
static int
served_levels(int scheme, const char *name, int *levels)
{
	const jcs_profile *p = jcs_schemes_find(jcs_schemes_builtin(),
	    scheme);
	int n = 0;

	assert_non_null(p);
	for (int lv = p->min_level; lv <= p->max_level; lv++)
		if (p->tmpl[lv] != NULL && strcmp(p->tmpl[lv], name) == 0)
			levels[n++] = lv;
	if (n == 0)
		levels[n++] = p->min_level;
	return n;
}

/* Every template, with a label of its own scheme at every level a profile
 * names it for. */
static void
test_every_template(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_trust *trust = jcs_trust_load_file(ctx,
	    tu_src("tests/vectors/trust-p256.pem"));
	jcs_label *ref = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));
	jcs_key *k = jcs_key_load(ctx,
	    tu_src("tests/vectors/ca-p256/signers/0001.key"), NULL);
	const jcs_schemes *set = jcs_schemes_builtin();
	/* rendered[scheme][level]: the profile's template for that level
	 * went the whole way with a label of that scheme and level */
	int rendered[JCS_SCHEME_CRA + 1][JCS_PROFILE_MAX_LEVELS + 1];
	char dir[4096], path[4096 + 256 + 2];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(trust);
	assert_non_null(ref);
	assert_non_null(k);
	memset(rendered, 0, sizeof(rendered));
	snprintf(dir, sizeof(dir), "%s", tu_src("templates"));
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		char name[256];
		int scheme, levels[JCS_PROFILE_MAX_LEVELS], nlv;

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".tmpl") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			fail_msg("path too long");
		snprintf(name, sizeof(name), "%.*s", (int)(nl - 5),
		    de->d_name);
		/* a template without a scheme key renders any label: give
		 * it JC-STAR's */
		if ((scheme = tu_template_scheme(path)) == 0)
			scheme = JCS_SCHEME_JCSTAR;
		assert_true(scheme <= JCS_SCHEME_CRA);
		nlv = served_levels(scheme, name, levels);
		for (int i = 0; i < nlv; i++) {
			const jcs_profile *p = jcs_schemes_find(set, scheme);
			const jcs_label *l = ref;
			jcs_label *own = NULL;

			/* the reference label is JC-STAR level 1; any other
			 * scheme or level gets its own label */
			if (scheme != JCS_SCHEME_JCSTAR || levels[i] != 1) {
				jcs_label_fields f = tu_scheme_fields(scheme,
				    levels[i]);

				own = jcs_label_new(ctx, &f);
				assert_non_null(own);
				assert_int_equal(jcs_label_sign(ctx, own, k),
				    0);
				l = own;
			}
			for (int dpi = 300; dpi <= 600; dpi += 300)
				for (int form = JCS_FORM_URL;
				    form <= JCS_FORM_BARE; form++)
					round_trip(path, l, trust, dpi, form);
			if (strcmp(p->tmpl[levels[i]], name) == 0)
				rendered[scheme][levels[i]] = 1;
			jcs_label_free(own);
		}
		n++;
	}
	closedir(d);
	/* at least one template per JC-STAR level */
	assert_true(n >= 4);
	for (int lv = 1; lv <= 4; lv++)
		if (!rendered[JCS_SCHEME_JCSTAR][lv])
			fail_msg("no template went the whole way with a "
			    "JC-STAR level %d label", lv);
	/* and every level of every profile (the built-in copy of
	 * certs/schemes): its template exists and went the whole way with a
	 * label of that scheme and level */
	assert_true(jcs_schemes_count(set) >= 5);
	for (size_t i = 0; i < jcs_schemes_count(set); i++) {
		const jcs_profile *p = jcs_schemes_get(set, i);

		for (int lv = p->min_level; lv <= p->max_level; lv++)
			if (!rendered[p->scheme][lv])
				fail_msg("%s level %d: its template '%s' is "
				    "not in %s, or is not for %s labels",
				    p->name, lv, p->tmpl[lv], dir, p->name);
	}
	jcs_key_free(k);
	jcs_label_free(ref);
	jcs_trust_free(trust);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_template),
	};

	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
