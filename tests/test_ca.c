/* test_ca.c - CA directories: init, keys and passphrases, profiles,
 * rotation, issuance rules. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char *tmp;
static char prof[4096];

static int
setup(void **state)
{
	(void)state;
	return tu_setup_tmp(&tmp, prof, sizeof(prof));
}

static int
teardown(void **state)
{
	(void)state;
	tu_teardown_tmp(&tmp);
	return 0;
}

static const char *
path_in(const char *dir, const char *rel)
{
	static char buf[16][8192];
	static int n;
	char *p = buf[n++ % 16], tmpbuf[8192];
	int len = snprintf(tmpbuf, sizeof(tmpbuf), "%s/%s", dir, rel);

	assert_true(len > 0 && (size_t)len < sizeof(tmpbuf));
	memcpy(p, tmpbuf, (size_t)len + 1);
	return p;
}

static int
init_ca(jcs_ctx *ctx, const char *dir, const char *pass, const char *now,
    const char *profile_dir)
{
	jcs_ca_init_opts o;

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "Example Certification Body";
	o.profile_dir = profile_dir != NULL ? profile_dir : prof;
	o.passphrase = pass;
	o.now = now != NULL ? tu_time(now) : 0;
	return jcs_ca_init(ctx, &o);
}

static jcs_issue_opts
ref_opts(void)
{
	jcs_issue_opts o;
	jcs_label_fields f = tu_ref_fields();

	memset(&o, 0, sizeof(o));
	o.scheme = JCS_SCHEME_JCSTAR;
	o.level = 1;
	o.product = f.product;
	o.not_before = tu_time("2025-06-01");
	return o;
}

/* Counts entries of dir whose name contains needle. */
static int
count_entries(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, needle) != NULL)
			n++;
	closedir(d);
	return n;
}

static void
test_init_layout(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in(tmp, "ca1");
	struct stat st;
	jcs_ca *ca;
	uint8_t *key;
	size_t len;

	(void)state;
	assert_int_equal(init_ca(ctx, dir, NULL, "2025-04-01", NULL), 0);
	assert_int_equal(stat(path_in(dir, "root.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(path_in(dir, "signers/0001.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	key = tu_read(path_in(dir, "root.key"), &len);
	assert_non_null(strstr((char *)key, "-----BEGIN PRIVATE KEY-----"));
	free(key);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);
	assert_string_equal(jcs_ca_name(ca), "Example Certification Body");
	assert_int_equal(jcs_ca_signer_count(ca), 1);
	assert_int_equal(strlen(jcs_ca_signer_id(ca, 0)), 16);
	assert_null(jcs_ca_signer_id(ca, 1));
	jcs_ca_free(ca);
	jcs_ca_free(NULL);

	/* an existing directory is never touched */
	assert_int_equal(init_ca(ctx, dir, NULL, NULL, NULL), -1);
	assert_err(ctx, JCS_ERR_EXISTS);
	assert_msg(ctx, "already exists");
	key = tu_read(path_in(dir, "root.key"), &len);
	assert_non_null(key);
	free(key);
	/* "dir/" names "dir" */
	assert_int_equal(init_ca(ctx, path_in(tmp, "slash/"), NULL, NULL,
	    NULL), 0);
	assert_int_equal(stat(path_in(tmp, "slash/ca.conf"), &st), 0);
	assert_int_equal(mkdir(path_in(tmp, "empty"), 0700), 0);
	assert_int_equal(init_ca(ctx, path_in(tmp, "empty"), NULL, NULL,
	    NULL), -1);
	assert_err(ctx, JCS_ERR_EXISTS);
	jcs_ctx_free(ctx);
}

static const struct profile_case {
	const char *name;
	const char *root;   /* root.profile text */
	const char *msg;
} profile_cases[] = {
	{ "unknown key", "subject_cn = X\nvalidity_days = 10\ncolour = red\n",
	  "root.profile:3: unknown key 'colour'" },
	{ "no equals", "subject_cn = X\nvalidity_days\n",
	  "root.profile:2: expected 'key = value'" },
	{ "bad days", "subject_cn = X\nvalidity_days = -4\n",
	  "root.profile:2: validity_days" },
	{ "missing cn", "validity_days = 10\n", "subject_cn and validity_days" },
	{ "placeholder", "subject_cn = ${nmae}\nvalidity_days = 10\n",
	  "root.profile:1: unknown placeholder ${nmae}" },
	{ "unknown extension", "subject_cn = X\nvalidity_days = 10\n"
	  "ext.fooBar = 1\n", "root.profile:3: unknown extension 'fooBar'" },
	{ "bad extension value", "subject_cn = X\nvalidity_days = 10\n"
	  "ext.keyUsage = critical,wibble\n",
	  "root.profile:3: bad value for extension keyUsage" },
};

/* A bad profile fails with file and line, and leaves nothing behind. */
static void
test_bad_profiles(void **state)
{
	char pdir[4096];

	(void)state;
	snprintf(pdir, sizeof(pdir), "%s/badprof", tmp);
	assert_int_equal(mkdir(pdir, 0700), 0);
	for (size_t i = 0; i < sizeof(profile_cases) / sizeof(profile_cases[0]);
	    i++) {
		const struct profile_case *c = &profile_cases[i];
		jcs_ctx *ctx = jcs_ctx_new();
		struct stat st;

		tu_profiles(pdir, NULL, 100);
		tu_write(path_in(pdir, "root.profile"), c->root,
		    strlen(c->root));
		if (init_ca(ctx, path_in(tmp, "badca"), NULL, NULL, pdir) == 0)
			fail_msg("%s: accepted", c->name);
		if (jcs_ctx_error(ctx) != JCS_ERR_PROFILE ||
		    strstr(jcs_ctx_message(ctx), c->msg) == NULL)
			fail_msg("%s: got %s '%s'", c->name,
			    jcs_err_name(jcs_ctx_error(ctx)),
			    jcs_ctx_message(ctx));
		assert_int_equal(stat(path_in(tmp, "badca"), &st), -1);
		assert_int_equal(count_entries(tmp, "badca"), 0);
		jcs_ctx_free(ctx);
	}
	{
		jcs_ctx *ctx = jcs_ctx_new();

		assert_int_equal(init_ca(ctx, path_in(tmp, "badca"), NULL, NULL,
		    path_in(tmp, "no-such-dir")), -1);
		assert_err(ctx, JCS_ERR_PROFILE);
		assert_msg(ctx, "no-such-dir/root.profile");
		jcs_ctx_free(ctx);
	}
}

static void
test_bad_init_args(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_ca_init_opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(jcs_ca_init(ctx, &o), -1);
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	o.dir = path_in(tmp, "noname");
	o.profile_dir = prof;
	assert_int_equal(jcs_ca_init(ctx, &o), -1);
	assert_msg(ctx, "needs a name");
	o.name = "Bad\x01Name";
	assert_int_equal(jcs_ca_init(ctx, &o), -1);
	assert_msg(ctx, "not valid UTF-8");
	o.name = "An Extremely Long Certification Body Name That Goes On";
	assert_int_equal(jcs_ca_init(ctx, &o), -1);
	assert_msg(ctx, "at most 64 characters");
	assert_int_equal(count_entries(tmp, "noname"), 0);
	o.name = "OK";
	o.alg = 7;
	assert_int_equal(jcs_ca_init(ctx, &o), -1);
	assert_msg(ctx, "unknown algorithm");
	assert_int_equal(jcs_alg_from_name("ed25519"), JCS_ALG_ED25519);
	assert_int_equal(jcs_alg_from_name("ec-p256"), JCS_ALG_EC_P256);
	assert_int_equal(jcs_alg_from_name("rsa"), 0);
	jcs_ctx_free(ctx);
}

static void
test_passphrase(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in(tmp, "enc");
	jcs_issue_opts io = ref_opts();
	jcs_ca *ca;
	jcs_label *l;
	uint8_t *key;
	size_t len;

	(void)state;
	assert_int_equal(init_ca(ctx, dir, "correct horse", "2025-04-01",
	    NULL), 0);
	key = tu_read(path_in(dir, "signers/0001.key"), &len);
	assert_non_null(strstr((char *)key, "ENCRYPTED PRIVATE KEY"));
	free(key);
	/* no passphrase */
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	assert_msg(ctx, "is encrypted");
	jcs_ca_free(ca);
	/* wrong passphrase */
	ca = jcs_ca_open(ctx, dir, "battery staple");
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	assert_msg(ctx, "wrong passphrase");
	assert_int_equal(jcs_ca_rotate(ctx, ca, prof, tu_time("2025-05-01")),
	    -1);
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	jcs_ca_free(ca);
	/* right passphrase; a rotated signer is encrypted too */
	ca = jcs_ca_open(ctx, dir, "correct horse");
	l = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(l);
	jcs_label_free(l);
	assert_int_equal(jcs_ca_rotate(ctx, ca, prof, tu_time("2025-05-01")),
	    0);
	key = tu_read(path_in(dir, "signers/0002.key"), &len);
	assert_non_null(strstr((char *)key, "ENCRYPTED PRIVATE KEY"));
	free(key);
	jcs_ca_free(ca);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_int_equal(jcs_ca_rotate(ctx, ca, prof, tu_time("2025-05-01")),
	    -1);
	assert_err(ctx, JCS_ERR_PASSPHRASE);
	jcs_ca_free(ca);

	/* a plain CA stays plain: a passphrase given to rotate is unused */
	assert_int_equal(init_ca(ctx, path_in(tmp, "plain"), NULL,
	    "2025-04-01", NULL), 0);
	ca = jcs_ca_open(ctx, path_in(tmp, "plain"), "unused");
	assert_int_equal(jcs_ca_rotate(ctx, ca, prof, tu_time("2025-05-01")),
	    0);
	key = tu_read(path_in(tmp, "plain/signers/0002.key"), &len);
	assert_non_null(strstr((char *)key, "-----BEGIN PRIVATE KEY"));
	free(key);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

static void
test_bad_keys(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in(tmp, "keys");
	jcs_issue_opts io = ref_opts();
	const char *sk;
	jcs_ca *ca;
	uint8_t *root;
	size_t len;

	(void)state;
	assert_int_equal(init_ca(ctx, dir, NULL, "2025-04-01", NULL), 0);
	sk = path_in(dir, "signers/0001.key");
	/* garbage */
	assert_int_equal(unlink(sk), 0);
	tu_write(sk, "not a key\n", 10);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "not a PEM private key");
	jcs_ca_free(ca);
	/* unreadable: a directory where the key should be (root ignores file
	 * permissions, so mode 000 would not make it unreadable here) */
	assert_int_equal(unlink(sk), 0);
	assert_int_equal(mkdir(sk, 0700), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_IO);
	assert_msg(ctx, "0001.key");
	jcs_ca_free(ca);
	assert_int_equal(rmdir(sk), 0);
	/* missing */
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_IO);
	jcs_ca_free(ca);
	/* the root's key in the signer's place: refused, wrong key */
	root = tu_read(path_in(dir, "root.key"), &len);
	tu_write(sk, root, len);
	free(root);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_KEY);
	assert_msg(ctx, "does not match its certificate");
	/* naming both key ids: the certificate's is the signer's */
	assert_msg(ctx, jcs_ca_signer_id(ca, 0));
	jcs_ca_free(ca);
	/* jcs_key_load directly */
	assert_null(jcs_key_load(ctx, path_in(dir, "root.crt"), NULL));
	assert_err(ctx, JCS_ERR_KEY);
	jcs_key_free(NULL);
	/* not a CA directory */
	assert_null(jcs_ca_open(ctx, tmp, NULL));
	assert_err(ctx, JCS_ERR_IO);
	assert_msg(ctx, "not a jcstar CA directory");
	jcs_ctx_free(ctx);
}

static void
test_issuance_rules(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	const char *dir = path_in(tmp, "rules");
	jcs_ca *ca;
	jcs_label *l;
	jcs_issue_opts io;
	const jcs_label_fields *f;

	(void)state;
	assert_int_equal(init_ca(ctx, dir, NULL, "2025-04-01", NULL), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	assert_non_null(ca);

	/* default: 2 years, self-declared */
	io = ref_opts();
	l = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(l);
	f = jcs_label_get_fields(l);
	assert_int_equal(f->not_before, tu_time("2025-06-01"));
	assert_int_equal(f->not_after, tu_time("2027-06-01"));
	assert_null(f->lab);
	assert_string_equal(jcs_label_issuer_hex(l), jcs_ca_signer_id(ca, 0));
	jcs_label_free(l);

	/* star 3 needs a lab (a new registration: other fields) */
	io.product.reg_id = "JCS-RULES-3";
	io.level = 3;
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	assert_msg(ctx, "--lab");
	io.lab = "Example Test Lab";
	l = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(l);
	assert_string_equal(jcs_label_get_fields(l)->lab, "Example Test Lab");
	jcs_label_free(l);

	/* levels 0 and 5 */
	io.level = 0;
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	assert_msg(ctx, "level 0");
	io.level = 5;
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_msg(ctx, "level 5");

	/* validity over 2 years */
	io = ref_opts();
	io.valid_days = 731; /* 2025-06-01 + 731 days > 2027-06-01 */
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	assert_msg(ctx, "maximum of 2 years");
	io.valid_days = 730;
	l = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(l);
	jcs_label_free(l);

	/* never beyond the signer (1827 days: valid until 2030-04-02) */
	io.not_before = tu_time("2029-06-01");
	io.valid_days = 700;
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	assert_msg(ctx, "after its signer");
	io.valid_days = 0; /* default: cut at the signer's end */
	l = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(l);
	assert_int_equal(jcs_label_get_fields(l)->not_after,
	    tu_time("2030-04-02"));
	jcs_label_free(l);
	io.not_before = tu_time("2031-01-01");
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_msg(ctx, "is not valid at");

	/* support period before the label starts */
	io = ref_opts();
	io.product.reg_id = "JCS-RULES-S";
	io.support_until = tu_time("2025-01-01");
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_POLICY_RULE);
	assert_msg(ctx, "support period");

	/* other schemes follow their profiles (test_scheme.c); unknown
	 * schemes are refused */
	io = ref_opts();
	io.scheme = 42;
	assert_null(jcs_ca_issue(ctx, ca, &io));
	assert_err(ctx, JCS_ERR_INVALID_ARG);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
}

static void
test_rotate(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	char *dir = strdup(path_in(tmp, "rot"));
	jcs_issue_opts io = ref_opts();
	jcs_verify_opts vo = { .at = tu_time("2026-01-01") };
	jcs_label *old, *fresh;
	jcs_trust *t;
	jcs_ca *ca;
	char *pem;
	struct stat st;

	(void)state;
	assert_int_equal(init_ca(ctx, dir, NULL, "2025-04-01", NULL), 0);
	ca = jcs_ca_open(ctx, dir, NULL);
	old = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(old);
	assert_int_equal(jcs_ca_rotate(ctx, ca, prof, tu_time("2025-05-01")),
	    0);
	assert_int_equal(jcs_ca_signer_count(ca), 2);
	assert_int_equal(stat(path_in(dir, "signers/0002.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fresh = jcs_ca_issue(ctx, ca, &io);
	assert_non_null(fresh);
	assert_string_not_equal(jcs_label_issuer_hex(old),
	    jcs_label_issuer_hex(fresh));
	assert_string_equal(jcs_label_issuer_hex(fresh),
	    jcs_ca_signer_id(ca, 1));
	pem = jcs_ca_trust_pem(ctx, ca);
	t = jcs_trust_load_mem(ctx, (uint8_t *)pem, strlen(pem));
	assert_non_null(t);
	assert_int_equal(jcs_trust_signer_count(t), 2);
	assert_int_equal(jcs_verify(ctx, t, old, &vo, NULL), 0);
	assert_int_equal(jcs_verify(ctx, t, fresh, &vo, NULL), 0);
	jcs_trust_free(t);
	jcs_free(pem);
	/* a key left by an interrupted rotation is never reused */
	tu_write(path_in(dir, "signers/0003.key"), "stray\n", 6);
	assert_int_equal(jcs_ca_rotate(ctx, ca, prof, tu_time("2025-05-02")),
	    0);
	assert_int_equal(stat(path_in(dir, "signers/0004.crt"), &st), 0);
	{
		size_t n;
		uint8_t *stray = tu_read(path_in(dir, "signers/0003.key"), &n);

		assert_int_equal(n, 6);
		free(stray);
	}
	jcs_ca_free(ca);
	/* a re-opened CA uses the newest signer */
	ca = jcs_ca_open(ctx, dir, NULL);
	if (ca == NULL)
		fail_msg("reopen: %s", jcs_ctx_message(ctx));
	assert_int_equal(jcs_ca_signer_count(ca), 3);
	jcs_label_free(fresh);
	fresh = jcs_ca_issue(ctx, ca, &io);
	assert_string_equal(jcs_label_issuer_hex(fresh),
	    jcs_ca_signer_id(ca, 2));
	/* export writes the same bundle to a file */
	assert_int_equal(jcs_ca_export_trust(ctx, ca, path_in(tmp,
	    "rot.pem")), 0);
	t = jcs_trust_load_file(ctx, path_in(tmp, "rot.pem"));
	assert_non_null(t);
	assert_int_equal(jcs_verify(ctx, t, fresh, &vo, NULL), 0);
	assert_int_equal(jcs_ca_export_trust(ctx, ca,
	    "/nonexistent-dir/x.pem"), -1);
	assert_err(ctx, JCS_ERR_IO);
	jcs_trust_free(t);
	jcs_label_free(old);
	jcs_label_free(fresh);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	free(dir);
}

static void
test_write_label_file(void **state)
{
	jcs_ctx *ctx = jcs_ctx_new();
	jcs_label *l = jcs_label_load_file(ctx,
	    tu_src("tests/vectors/ref-p256.der"));
	jcs_label *back;
	uint8_t *pem;
	size_t len;

	(void)state;
	assert_int_equal(jcs_label_write_file(ctx, l, path_in(tmp, "x.pem")),
	    0);
	pem = tu_read(path_in(tmp, "x.pem"), &len);
	assert_true(strncmp((char *)pem, "-----BEGIN JCSTAR LABEL-----", 28)
	    == 0);
	free(pem);
	assert_int_equal(jcs_label_write_file(ctx, l, path_in(tmp, "x.der")),
	    0);
	back = jcs_label_load_file(ctx, path_in(tmp, "x.der"));
	assert_non_null(back);
	jcs_label_free(back);
	/* a failed write leaves no file and no temporary behind */
	assert_int_equal(jcs_label_write_file(ctx, l, path_in(tmp,
	    "missing/x.der")), -1);
	assert_err(ctx, JCS_ERR_IO);
	assert_int_equal(count_entries(tmp, ".tmp-"), 0);
	jcs_label_free(l);
	jcs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_layout),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_bad_init_args),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_issuance_rules),
		cmocka_unit_test(test_rotate),
		cmocka_unit_test(test_write_label_file),
	};

	return cmocka_run_group_tests_name("ca", tests, setup, teardown);
}
