/* test_pipeline.c - the whole way and back, through the library only:
 * label -> payload -> QR -> PNG artwork (every template, 300 and 600 dpi,
 * both forms) -> libzbar -> the same payload text -> the same label ->
 * valid. */
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
	char dir[4096], path[4096 + 256 + 2];
	struct dirent *de;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(trust);
	assert_non_null(ref);
	snprintf(dir, sizeof(dir), "%s", tu_src("templates"));
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		const jcs_label *l = ref;
		jcs_label *own = NULL;

		if (nl < 6 || strcmp(de->d_name + nl - 5, ".tmpl") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			fail_msg("path too long");
		/* the star-3 and star-4 designs get a label of their level */
		if (strstr(de->d_name, "-3.") != NULL ||
		    strstr(de->d_name, "-4.") != NULL) {
			jcs_label_fields f = tu_ref_fields();

			f.level = strstr(de->d_name, "-3.") ? 3 : 4;
			f.lab = "Japan Test Lab";
			own = jcs_label_new(ctx, &f);
			assert_non_null(own);
			assert_int_equal(jcs_label_sign(ctx, own, k), 0);
			l = own;
		}
		for (int dpi = 300; dpi <= 600; dpi += 300)
			for (int form = JCS_FORM_URL; form <= JCS_FORM_BARE;
			    form++)
				round_trip(path, l, trust, dpi, form);
		jcs_label_free(own);
		n++;
	}
	closedir(d);
	/* at least one template per JC-STAR level */
	assert_true(n >= 4);
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
