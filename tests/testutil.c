/* testutil.c - helpers shared by the cmocka tests. */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "testutil.h"

const char *
tu_src(const char *rel)
{
	static char buf[4096];
	const char *top = getenv("JCSTAR_TOP");

	snprintf(buf, sizeof(buf), "%s/%s", top != NULL ? top : ".", rel);
	return buf;
}

uint8_t *
tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

void
tu_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A new directory under $TMPDIR (make check sets it: scripts/check-tmpdir)
 * or /tmp. */
char *
tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;

	if (base == NULL || base[0] != '/')
		base = "/tmp";
	assert_true(asprintf(&p, "%s/jcstar-test-XXXXXX", base) > 0);
	assert_non_null(p);
	assert_non_null(mkdtemp(p));
	return p;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tu_rmrf(const char *path)
{
	if (path != NULL)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
tu_setup_tmp(char **tmp, char *prof, size_t len)
{
	*tmp = tu_tmpdir();
	if (snprintf(prof, len, "%s/profiles", *tmp) >= (int)len ||
	    mkdir(prof, 0700) != 0)
		return 1;
	tu_profiles(prof, NULL, 1827);
	return 0;
}

void
tu_teardown_tmp(char **tmp)
{
	tu_rmrf(*tmp);
	free(*tmp);
	*tmp = NULL;
}

time_t
tu_time(const char *text)
{
	time_t t = 0;

	if (jcs_time_parse(NULL, text, &t) == -1)
		fail_msg("bad time %s", text);
	return t;
}

void
tu_profiles(const char *dir, const char *signer_eku, long signer_days)
{
	char path[4096], text[2048];

	snprintf(path, sizeof(path), "%s/root.profile", dir);
	snprintf(text, sizeof(text),
	    "subject_cn = ${name} Root CA\nvalidity_days = 7305\n"
	    "ext.basicConstraints = critical,CA:TRUE,pathlen:0\n"
	    "ext.keyUsage = critical,keyCertSign,cRLSign\n"
	    "ext.subjectKeyIdentifier = hash\n");
	tu_write(path, text, strlen(text));
	snprintf(path, sizeof(path), "%s/signer.profile", dir);
	snprintf(text, sizeof(text),
	    "subject_cn = ${name} Label Signer ${n}\nvalidity_days = %ld\n"
	    "ext.basicConstraints = critical,CA:FALSE\n"
	    "ext.keyUsage = critical,digitalSignature,cRLSign\n%s%s%s"
	    "ext.subjectKeyIdentifier = hash\n"
	    "ext.authorityKeyIdentifier = keyid:always\n", signer_days,
	    signer_eku == NULL || signer_eku[0] != '\0' ?
	    "ext.extendedKeyUsage = critical," : "",
	    signer_eku == NULL ? "${label_signing_eku}" : signer_eku,
	    signer_eku == NULL || signer_eku[0] != '\0' ? "\n" : "");
	tu_write(path, text, strlen(text));
}

void
tu_assert_err(const jcs_ctx *ctx, jcs_err want, const char *file, int line)
{
	if (jcs_ctx_error(ctx) != want)
		fail_msg("%s:%d: want error %s, got %s (%s)", file, line,
		    jcs_err_name(want), jcs_err_name(jcs_ctx_error(ctx)),
		    jcs_ctx_message(ctx));
}

void
tu_assert_msg(const jcs_ctx *ctx, const char *needle, const char *file,
    int line)
{
	if (strstr(jcs_ctx_message(ctx), needle) == NULL)
		fail_msg("%s:%d: message '%s' lacks '%s'", file, line,
		    jcs_ctx_message(ctx), needle);
}

jcs_label_fields
tu_ref_fields(void)
{
	jcs_label_fields f;

	memset(&f, 0, sizeof(f));
	f.scheme = JCS_SCHEME_JCSTAR;
	f.level = 1;
	f.product.reg_id = "JCS-2025-000123";
	f.product.vendor = "Example Electronics Co., Ltd.";
	f.product.product = "Home Router";
	f.product.model = "HR-1000";
	f.not_before = tu_time("2025-04-01T00:00:00Z");
	f.not_after = tu_time("2027-04-01T00:00:00Z");
	f.support_until = tu_time("2030-03-31");
	return f;
}

jcs_label_fields
tu_scheme_fields(int scheme, int level)
{
	static const char *const labs[] = {
		[JCS_SCHEME_JCSTAR] = "Japan Test Lab",
		[JCS_SCHEME_CLS] = "Singapore Test Lab",
		[JCS_SCHEME_PSTI] = "UK Test Lab",
		[JCS_SCHEME_CYBER_TRUST_MARK] = "CyberLAB Test",
		[JCS_SCHEME_CRA] = "Notified Body 1234",
	};
	const jcs_profile *p = jcs_schemes_find(jcs_schemes_builtin(),
	    scheme);
	jcs_label_fields f = tu_ref_fields();

	if (p == NULL || scheme < 1 ||
	    scheme >= (int)(sizeof(labs) / sizeof(labs[0])))
		fail_msg("no built-in profile for scheme %d", scheme);
	f.scheme = scheme;
	f.level = level;
	if (p->third_party_from > 0 && level >= p->third_party_from)
		f.lab = labs[scheme];
	return f;
}

int
tu_template_scheme(const char *path)
{
	size_t len;
	char *buf = (char *)tu_read(path, &len), *line, *save = NULL;
	char sect[32] = "", name[64];
	int scheme = 0;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, " [%31[a-z]]", sect) == 1)
			continue;
		if (strcmp(sect, "label") == 0 &&
		    sscanf(line, " scheme = %63s", name) == 1 &&
		    (scheme = jcs_scheme_from_name(name)) == 0)
			fail_msg("%s: unknown scheme '%s'", path, name);
	}
	free(buf);
	return scheme;
}
