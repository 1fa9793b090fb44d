/* cmd_payload.c - jcstar payload: the QR text of a label. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const char help[] =
"usage: jcstar payload [--form url|bare] [--base-url URL | --ca DIR]\n"
"           [--info] [--ec L|M|Q|H] [--json] LABEL\n"
"\n"
"Print the text that goes in the label's QR code (docs/FORMAT.md):\n"
"  url   the verifier's base URL followed by the label in digits (default);\n"
"        a phone camera opens that address\n"
"  bare  JCS1: followed by the label in Base45, for dedicated scanners\n"
"\n"
"  --form FORM      url (default) or bare\n"
"  --base-url URL   verifier base URL, HTTPS://HOST/PATH/ in upper case\n"
"  --ca DIR         take the base URL set with 'jcstar ca init --verify-url'\n"
"  --info           also print (on stderr) the QR version and size that the\n"
"                   payload needs at the error-correction level\n"
"  --ec LEVEL       error correction for --info and --json: L, M (default),\n"
"                   Q or H\n"
"  --json           print {\"payload\":..., \"form\":..., \"qr_version\":...}\n"
"  -h, --help       this help\n";

/* Resolves the base URL for the url form: --base-url, else the CA's. On
 * error prints and returns NULL with *rc set. */
const char *
resolve_base_url(jcs_ctx *ctx, const char *base, const char *cadir,
    jcs_ca **ca_out, int *rc)
{
	*ca_out = NULL;
	if (base != NULL)
		return base;
	if (cadir == NULL) {
		*rc = fail_usage("the url form needs the verifier's base URL: "
		    "give --base-url URL or --ca DIR (set with 'jcstar ca "
		    "init --verify-url'), or use --form bare");
		return NULL;
	}
	if ((*ca_out = jcs_ca_open(ctx, cadir, NULL)) == NULL) {
		*rc = fail_ctx(ctx, "--ca");
		return NULL;
	}
	if (jcs_ca_verify_url(*ca_out) == NULL) {
		*rc = fail_usage("CA %s has no verifier base URL (it was made "
		    "without --verify-url): give --base-url URL", cadir);
		return NULL;
	}
	return jcs_ca_verify_url(*ca_out);
}

int
cmd_payload(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "form", required_argument, NULL, 'f' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "ca", required_argument, NULL, 'c' },
		{ "info", no_argument, NULL, 'i' },
		{ "ec", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = NULL, *cadir = NULL, *url = NULL;
	int c, form = JCS_FORM_URL, info = 0, json = 0, ec = JCS_QR_EC_M;
	int rc = EXIT_VALID;
	jcs_ctx *ctx;
	jcs_ca *ca = NULL;
	jcs_label *l = NULL;
	jcs_qr *qr = NULL;
	char *text = NULL;
	const uint8_t *der;
	size_t len;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((form = jcs_form_from_name(optarg)) == 0)
				return fail_usage("--form must be url or bare, "
				    "not '%s'", optarg);
			break;
		case 'b':
			base = optarg;
			break;
		case 'c':
			cadir = optarg;
			break;
		case 'i':
			info = 1;
			break;
		case 'e':
			if ((ec = jcs_qr_ec_from_name(optarg)) == 0)
				return fail_usage("--ec must be L, M, Q or H, "
				    "not '%s'", optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return print_help(help);
		default:
			return usage_error(help);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "%s payload: give exactly one label file\n",
		    progname);
		return usage_error(help);
	}
	if ((ctx = cli_ctx_new()) == NULL)
		return fail_usage("out of memory");
	if (form == JCS_FORM_URL &&
	    (url = resolve_base_url(ctx, base, cadir, &ca, &rc)) == NULL)
		goto done;
	if ((l = jcs_label_load_file(ctx, argv[optind])) == NULL) {
		rc = fail_ctx(ctx, argv[optind]);
		goto done;
	}
	der = jcs_label_der(l, &len);
	if ((text = jcs_payload_encode(ctx, der, len, form, url)) == NULL) {
		rc = fail_ctx(ctx, "payload");
		goto done;
	}
	if ((info || json) && (qr = jcs_qr_encode(ctx, text, ec)) == NULL) {
		rc = fail_ctx(ctx, "payload");
		goto done;
	}
	if (json) {
		fputs("{\"payload\":", stdout);
		json_str(stdout, text);
		printf(",\"form\":\"%s\",\"chars\":%zu,\"label_bytes\":%zu,"
		    "\"qr_version\":%d,\"qr_modules\":%d,\"qr_ec\":\"%c\"}\n",
		    form == JCS_FORM_URL ? "url" : "bare", strlen(text), len,
		    jcs_qr_version(qr), jcs_qr_width(qr), "LMQH"[ec - 1]);
	} else {
		printf("%s\n", text);
	}
	if (info)
		fprintf(stderr, "%s form: %zu characters for %zu label bytes; "
		    "QR version %d at level %c, %dx%d modules (+4 quiet zone "
		    "on each side)\n", form == JCS_FORM_URL ? "url" : "bare",
		    strlen(text), len, jcs_qr_version(qr), "LMQH"[ec - 1],
		    jcs_qr_width(qr), jcs_qr_width(qr));
done:
	jcs_qr_free(qr);
	jcs_free(text);
	jcs_label_free(l);
	jcs_ca_free(ca);
	jcs_ctx_free(ctx);
	return rc;
}
