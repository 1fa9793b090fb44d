/* cmd_ca.c - jcstar ca init | ca rotate, and jcstar trust export. */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"

static const char ca_help[] =
"usage: jcstar ca init --dir DIR --name NAME [--alg ec-p256|ed25519]\n"
"                      [--verify-url URL] [--passphrase-file FILE]\n"
"                      [--profiles DIR]\n"
"       jcstar ca rotate --dir DIR [--key URI] [--passphrase-file FILE]\n"
"                        [--profiles DIR]\n"
"       jcstar ca revoke-signer --dir DIR --key-id ID --reason R\n"
"                        [--passphrase-file FILE]\n"
"\n"
"ca init creates a new CA directory: a self-signed root certificate and one\n"
"label-signing certificate under it, from the profiles root.profile and\n"
"signer.profile (the certs/ directory of jcstar). Keys are PEM files of\n"
"mode 0600. It refuses to touch an existing directory.\n"
"\n"
"ca rotate adds a new label-signing key and certificate and makes it the\n"
"current one. Old signers stay in the trust bundle, so labels they signed\n"
"keep verifying until they expire. With --key, the new signer is a key pair\n"
"already in an HSM (ECDSA P-256 only, so the CA must be ec-p256): its\n"
"certificate is made for that key, and signers/NNNN.key holds the key's URI\n"
"instead of a private key, so labels and CRLs are then signed inside the\n"
"HSM. The token PIN comes from the URI's pin-source=FILE or\n"
"$JCSTAR_PKCS11_PIN, never from the command line; the PKCS#11 module from\n"
"the URI's module-path, $JCSTAR_PKCS11_MODULE, or p11-kit's proxy. issue and\n"
"crl then find the PIN and the module the same way.\n"
"\n"
"ca revoke-signer marks an earlier label signer (key id as in 'jcstar\n"
"show', 16 hex digits) revoked, e.g. --reason key-compromise: the root\n"
"signs a CRL of revoked signer certificates (kept as DIR/signers.crl and put\n"
"in every exported trust bundle), and every label of that signer then\n"
"fails verification as revoked. It needs the root key. The current signer\n"
"cannot be revoked: rotate first.\n"
"\n"
"  --dir DIR               the CA directory\n"
"  --name NAME             the certification body's name (UTF-8, <= 64 bytes)\n"
"  --alg ALG               ec-p256 (ECDSA P-256, default) or ed25519\n"
"  --verify-url URL        base URL of the verifier page, for url-form QR\n"
"                          payloads: HTTPS://HOST/PATH/ in upper case\n"
"  --key URI               rotate onto an HSM key: a pkcs11: URI (RFC 7512),\n"
"                          e.g. 'pkcs11:token=cb;object=signer;type=private\n"
"                          ?module-path=/usr/lib/softhsm/libsofthsm2.so'\n"
"                          (one word: quote it for the shell)\n"
"  --passphrase-file FILE  encrypt (init) or decrypt (rotate) the keys with\n"
"                          the first line of FILE; else $JCSTAR_PASSPHRASE\n"
"                          if set; else keys are not encrypted\n"
"  --profiles DIR          certificate profiles (default: $JCSTAR_PROFILES,\n"
"                          the source tree's certs/, or the installed ones)\n"
"  -q, --quiet             print nothing on success\n"
"  -h, --help              this help\n";

static const char trust_help[] =
"usage: jcstar trust export --ca DIR -o FILE|-\n"
"       jcstar trust export --ca DIR --web OUTDIR [--web-src DIR] [-o FILE]\n"
"\n"
"Write the CA's trust bundle: the root certificate, every label-signing\n"
"certificate and the current CRLs (of revoked signers and of revoked\n"
"labels), in PEM. Verifiers need only this file.\n"
"\n"
"With --web, write the consumer verifier page for a static host into\n"
"OUTDIR (created if missing): the page files, OUTDIR/trust.pem (the\n"
"bundle), OUTDIR/config.json, which pins the root's public key (base64\n"
"DER SubjectPublicKeyInfo): the page trusts only certificates and CRLs of\n"
"trust.pem that chain to that key, so trust.pem may be served from any\n"
"mirror; and OUTDIR/schemes.json (what 'jcstar schemes --json' prints:\n"
"the scheme profiles, the recognition file and the default policy), from\n"
"which the page names levels and decides requirements (?as=psti).\n"
"Serve index.html for every label address (BASE-URL/DIGITS).\n"
"\n"
"  --ca DIR       the CA directory\n"
"  -o FILE        output file; - for standard output\n"
"  --web OUTDIR   write the verifier page, trust.pem, config.json and\n"
"                 schemes.json\n"
"  --web-src DIR  the page's source files (default: $JCSTAR_WEB, the\n"
"                 source tree's web/, or the installed ones)\n"
"  -q, --quiet    print nothing on success\n"
"  -h, --help     this help\n";

/* jcstar ca revoke-signer */
static int
revoke_signer(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key-id", required_argument, NULL, 'k' },
		{ "reason", required_argument, NULL, 'r' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *id = NULL, *pfile = NULL;
	char *pass = NULL;
	int c, reason = -1, rc;
	jcs_ctx *ctx;
	jcs_ca *ca;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'k':
			id = optarg;
			break;
		case 'r':
			if ((reason = jcs_reason_from_name(optarg)) == -1)
				return fail_usage("unknown --reason '%s' (e.g. "
				    "key-compromise, superseded)", optarg);
			break;
		case 'p':
			pfile = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return print_help(ca_help);
		default:
			return usage_error(ca_help);
		}
	}
	if (optind != argc)
		return fail_usage("ca revoke-signer: unexpected argument '%s'",
		    argv[optind]);
	if (dir == NULL || id == NULL || reason == -1)
		return fail_usage("ca revoke-signer: --dir, --key-id and "
		    "--reason are required");
	if ((rc = get_passphrase(pfile, &pass)) != 0)
		return rc;
	if ((ctx = cli_ctx_new()) == NULL) {
		free_secret(pass);
		return fail_usage("out of memory");
	}
	if ((ca = jcs_ca_open(ctx, dir, pass)) == NULL ||
	    jcs_ca_revoke_signer(ctx, ca, id, reason) == -1) {
		fail_ctx(ctx, "ca revoke-signer");
		rc = EXIT_USAGE;
	} else if (!quiet) {
		fprintf(stderr, "revoked signer %s (%s): %s/signers.crl; "
		    "re-export and publish the trust bundle\n", id,
		    jcs_reason_name(reason), dir);
	}
	jcs_ca_free(ca);
	free_secret(pass);
	jcs_ctx_free(ctx);
	return rc;
}

int
cmd_ca(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "alg", required_argument, NULL, 'a' },
		{ "verify-url", required_argument, NULL, 'u' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "profiles", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *name = NULL, *pfile = NULL, *prof = NULL;
	const char *url = NULL, *key_uri = NULL;
	const char *sub;
	char *pass = NULL;
	int c, alg = JCS_ALG_EC_P256, alg_set = 0, rc;
	jcs_ctx *ctx;

	if (argc < 2) {
		if (argc == 1 || argc == 0)
			fprintf(stderr, "%s ca: say 'init', 'rotate' or "
			    "'revoke-signer'\n",
			    progname);
		return usage_error(ca_help);
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)
		return print_help(ca_help);
	if (strcmp(sub, "revoke-signer") == 0)
		return revoke_signer(argc - 1, argv + 1);
	if (strcmp(sub, "init") != 0 && strcmp(sub, "rotate") != 0) {
		fprintf(stderr, "%s ca: unknown subcommand '%s'\n", progname,
		    sub);
		return usage_error(ca_help);
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'a':
			if ((alg = jcs_alg_from_name(optarg)) == 0)
				return fail_usage("unknown --alg '%s' (use "
				    "ec-p256 or ed25519)", optarg);
			alg_set = 1;
			break;
		case 'u':
			url = optarg;
			break;
		case 'p':
			pfile = optarg;
			break;
		case 'P':
			prof = optarg;
			break;
		case 'k':
			key_uri = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return print_help(ca_help);
		default:
			return usage_error(ca_help);
		}
	}
	if (optind != argc)
		return fail_usage("ca %s: unexpected argument '%s'", sub,
		    argv[optind]);
	if (dir == NULL)
		return fail_usage("ca %s: --dir is required", sub);
	if (strcmp(sub, "init") == 0 && name == NULL)
		return fail_usage("ca init: --name is required");
	if (strcmp(sub, "rotate") == 0 && (name != NULL || alg_set ||
	    url != NULL))
		return fail_usage("ca rotate: --name, --alg and --verify-url "
		    "belong to ca init; a new signer keeps the CA's settings");
	if (strcmp(sub, "init") == 0 && key_uri != NULL)
		return fail_usage("ca init: --key belongs to ca rotate: create "
		    "the CA, then rotate its signer onto the HSM key");
	if (key_uri != NULL && strncmp(key_uri, "pkcs11:", 7) != 0)
		return fail_usage("ca rotate: --key takes a pkcs11: URI, not "
		    "'%s'", key_uri);
	if ((rc = get_passphrase(pfile, &pass)) != 0)
		return rc;
	if ((ctx = cli_ctx_new()) == NULL) {
		free_secret(pass);
		return fail_usage("out of memory");
	}
	if (strcmp(sub, "init") == 0) {
		jcs_ca_init_opts o = { dir, name, alg, profile_dir(prof),
			pass, 0, url };

		if (jcs_ca_init(ctx, &o) == -1) {
			rc = fail_ctx(ctx, "ca init");
		} else if (!quiet) {
			fprintf(stderr, "created CA %s for '%s' (%s%s)\n", dir,
			    name, alg == JCS_ALG_ED25519 ? "Ed25519" :
			    "ECDSA P-256", pass != NULL ?
			    ", keys encrypted" : "");
			fprintf(stderr, "next: jcstar trust export --ca %s -o "
			    "trust.pem\n", dir);
		}
	} else {
		jcs_ca *ca = jcs_ca_open(ctx, dir, pass);

		if (ca == NULL || (key_uri != NULL ?
		    jcs_ca_rotate_to_key(ctx, ca, profile_dir(prof), key_uri,
		    0) : jcs_ca_rotate(ctx, ca, profile_dir(prof), 0)) == -1) {
			rc = fail_ctx(ctx, "ca rotate");
		} else if (!quiet) {
			size_t n = jcs_ca_signer_count(ca);

			fprintf(stderr, "new label signer %s (signer %zu of "
			    "%zu%s); re-export the trust bundle\n",
			    jcs_ca_signer_id(ca, n - 1), n, n, key_uri != NULL ?
			    ", key in the HSM" : "");
		}
		jcs_ca_free(ca);
	}
	free_secret(pass);
	jcs_ctx_free(ctx);
	return rc;
}

/* ---- trust export --web (the verifier page, issue 5) ---- */

/* The page files copied from the web source directory; NULL-terminated.
 * Optional ones (built by npm) are marked with a leading '?'. */
static const char *const web_files[] = {
	"index.html", "app.js", "verifier.js", "i18n.js", "sw.js", "style.css",
	"?vendor/jsQR.js", NULL
};


/* Writes len bytes to path through path.tmp and a rename. Returns 0 or an
 * exit status (message printed). */
static int
web_write(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return fail_usage("trust export: path too long: %s", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return fail_usage("trust export: cannot create %s: %s", tmp,
		    strerror(errno));
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		(void)fclose(f);
		(void)unlink(tmp);
		return fail_usage("trust export: cannot write %s", tmp);
	}
	/* fclose once, whatever it returns */
	if (fclose(f) != 0) {
		(void)unlink(tmp);
		return fail_usage("trust export: cannot write %s", tmp);
	}
	if (rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return fail_usage("trust export: cannot rename %s: %s", tmp,
		    strerror(errno));
	}
	return 0;
}

/* Copies src/name to out/name (at most 4 MiB; creates out/vendor/). */
static int
web_copy(const char *src, const char *out, const char *name, int optional)
{
	char from[PATH_MAX], to[PATH_MAX];
	unsigned char *buf;
	size_t len = 0, cap = 4u << 20;
	FILE *f;
	int rc;

	if (snprintf(from, sizeof(from), "%s/%s", src, name) >=
	    (int)sizeof(from) ||
	    snprintf(to, sizeof(to), "%s/%s", out, name) >= (int)sizeof(to))
		return fail_usage("trust export: path too long: %s", out);
	if ((f = fopen(from, "rb")) == NULL) {
		if (optional && errno == ENOENT)
			return 0;
		return fail_usage("trust export: cannot open page file %s: "
		    "%s", from, strerror(errno));
	}
	if ((buf = malloc(cap)) == NULL) {
		fclose(f);
		return fail_usage("out of memory");
	}
	len = fread(buf, 1, cap, f);
	if (ferror(f) || !feof(f)) {
		fclose(f);
		free(buf);
		return fail_usage("trust export: cannot read %s (or it is "
		    "over 4 MiB)", from);
	}
	fclose(f);
	if (strchr(name, '/') != NULL) {
		char dir[PATH_MAX];

		if (snprintf(dir, sizeof(dir), "%s/%.*s", out,
		    (int)(strrchr(name, '/') - name), name) >=
		    (int)sizeof(dir) ||
		    (mkdir(dir, 0755) != 0 && errno != EEXIST)) {
			free(buf);
			return fail_usage("trust export: cannot create %s: %s",
			    dir, strerror(errno));
		}
	}
	rc = web_write(to, buf, len);
	free(buf);
	return rc;
}

/* Base64 of the DER SubjectPublicKeyInfo of the root certificate of ca_dir
 * into out (malloc'd), or an exit status. */
static int
web_root_spki(const char *ca_dir, char **out)
{
	char path[PATH_MAX];
	unsigned char *der = NULL;
	X509 *x = NULL;
	FILE *f;
	int n;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/root.crt", ca_dir) >=
	    (int)sizeof(path) || (f = fopen(path, "r")) == NULL)
		return fail_usage("trust export: cannot open %s: %s", path,
		    strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL || (n = i2d_PUBKEY(X509_get0_pubkey(x), &der)) <= 0) {
		X509_free(x);
		return fail_usage("trust export: cannot read the root "
		    "certificate %s", path);
	}
	X509_free(x);
	if ((*out = malloc((size_t)(n + 2) / 3 * 4 + 1)) == NULL) {
		OPENSSL_free(der);
		return fail_usage("out of memory");
	}
	EVP_EncodeBlock((unsigned char *)*out, der, n);
	OPENSSL_free(der);
	return 0;
}

/* Writes out/schemes.json: the scheme profiles ctx uses, rec and pol, as
 * `jcstar schemes --json` prints them (json_schemes). The page names levels
 * and decides requirements from it, as libjcstar's jcs_decide() does. */
static int
web_schemes(jcs_ctx *ctx, const char *out, const jcs_recognition *rec,
    const jcs_policy *pol)
{
	char path[PATH_MAX], *json = NULL;
	size_t len = 0;
	FILE *mem;
	int rc;

	if (snprintf(path, sizeof(path), "%s/schemes.json", out) >=
	    (int)sizeof(path))
		return fail_usage("trust export: path too long: %s", out);
	if ((mem = open_memstream(&json, &len)) == NULL)
		return fail_usage("out of memory");
	json_schemes(mem, ctx, rec, pol, ctx);
	if (fclose(mem) != 0) {
		free(json);
		return fail_usage("out of memory");
	}
	rc = web_write(path, json, len);
	free(json);
	return rc;
}

/* Writes the page, trust.pem, config.json and schemes.json into out. */
static int
web_export(jcs_ctx *ctx, const jcs_ca *ca, const char *ca_dir,
    const char *out, const char *src_opt)
{
	char path[PATH_MAX], when[32], *spki = NULL;
	const char *src = web_dir(src_opt);
	struct tm tm;
	time_t now = time(NULL);
	FILE *mem;
	char *json = NULL;
	size_t json_len = 0;
	jcs_recognition *rec = NULL;
	jcs_policy *pol = NULL;
	int rc;

	/* every required page file first: a bad source creates nothing */
	for (size_t i = 0; web_files[i] != NULL; i++) {
		if (web_files[i][0] == '?')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", src, web_files[i]) >=
		    (int)sizeof(path) || access(path, R_OK) != 0)
			return fail_usage("trust export: cannot read page file "
			    "%s: %s (set --web-src or $JCSTAR_WEB to the web/ "
			    "directory)", path, strerror(errno));
	}
	/* ... and the recognition and policy files schemes.json shows: a bad
	 * one creates nothing either */
	if ((rec = load_recognition(ctx, NULL)) == NULL ||
	    (pol = load_policy(ctx, NULL)) == NULL) {
		fail_ctx(ctx, "trust export");
		rc = EXIT_USAGE;
		goto done;
	}
	if (mkdir(out, 0755) != 0 && errno != EEXIST) {
		rc = fail_usage("trust export: cannot create %s: %s", out,
		    strerror(errno));
		goto done;
	}
	for (size_t i = 0; web_files[i] != NULL; i++) {
		int opt = web_files[i][0] == '?';

		if ((rc = web_copy(src, out, web_files[i] + opt, opt)) != 0)
			goto done;
	}
	if ((rc = web_schemes(ctx, out, rec, pol)) != 0)
		goto done;
	if (snprintf(path, sizeof(path), "%s/trust.pem", out) >=
	    (int)sizeof(path)) {
		rc = fail_usage("trust export: path too long: %s", out);
		goto done;
	}
	if (jcs_ca_export_trust(ctx, ca, path) == -1) {
		rc = fail_ctx(ctx, "trust export");
		goto done;
	}
	if ((rc = web_root_spki(ca_dir, &spki)) != 0)
		goto done;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((mem = open_memstream(&json, &json_len)) == NULL) {
		rc = fail_usage("out of memory");
		goto done;
	}
	fprintf(mem, "{\n  \"format\": 1,\n  \"name\": ");
	json_str(mem, jcs_ca_name(ca));
	fprintf(mem, ",\n  \"trust\": \"trust.pem\",\n  \"roots\": [\"%s\"],\n"
	    "  \"exported\": \"%s\"\n}\n", spki, when);
	fclose(mem);
	if (snprintf(path, sizeof(path), "%s/config.json", out) >=
	    (int)sizeof(path))
		rc = fail_usage("trust export: path too long: %s", out);
	else
		rc = web_write(path, json, json_len);
done:
	free(json);
	free(spki);
	jcs_recognition_free(rec);
	jcs_policy_free(pol);
	return rc;
}

int
cmd_trust(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "web", required_argument, NULL, 'w' },
		{ "web-src", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *out = NULL, *web = NULL, *web_src = NULL;
	jcs_ctx *ctx;
	jcs_ca *ca = NULL;
	int c, rc = EXIT_VALID;

	if (argc < 2) {
		fprintf(stderr, "%s trust: say 'export'\n", progname);
		return usage_error(trust_help);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return print_help(trust_help);
	if (strcmp(argv[1], "export") != 0) {
		fprintf(stderr, "%s trust: unknown subcommand '%s'\n",
		    progname, argv[1]);
		return usage_error(trust_help);
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			dir = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			web = optarg;
			break;
		case 's':
			web_src = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return print_help(trust_help);
		default:
			return usage_error(trust_help);
		}
	}
	if (optind != argc)
		return fail_usage("trust export: unexpected argument '%s'",
		    argv[optind]);
	if (dir == NULL || (out == NULL && web == NULL))
		return fail_usage("trust export: --ca and -o are required");
	if (web_src != NULL && web == NULL)
		return fail_usage("trust export: --web-src needs --web");
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	/* Exporting needs only certificates: no passphrase. */
	if ((ca = jcs_ca_open(ctx, dir, NULL)) == NULL ||
	    (out != NULL && jcs_ca_export_trust(ctx, ca, out) == -1))
		rc = fail_ctx(ctx, "trust export");
	else if (web != NULL &&
	    (rc = web_export(ctx, ca, dir, web, web_src)) != 0)
		;
	else if (!quiet && out != NULL && strcmp(out, "-") != 0)
		fprintf(stderr, "wrote trust bundle %s (1 root, %zu signer%s)\n",
		    out, jcs_ca_signer_count(ca),
		    jcs_ca_signer_count(ca) == 1 ? "" : "s");
	if (rc == EXIT_VALID && web != NULL && !quiet)
		fprintf(stderr, "wrote verifier page %s/ (index.html, "
		    "trust.pem, config.json, schemes.json; 1 root, %zu "
		    "signer%s)\n", web,
		    jcs_ca_signer_count(ca),
		    jcs_ca_signer_count(ca) == 1 ? "" : "s");
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}
